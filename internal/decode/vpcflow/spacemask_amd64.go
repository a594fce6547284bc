//go:build amd64 && !purego

package vpcflow

import "golang.org/x/sys/cpu"

// haveSpaceMask is whether spaceMask can run here.
var haveSpaceMask = cpu.X86.HasAVX2

// spaceMask sets bit i of mask when line[i] is a space; see spacemask_amd64.s.
//
//go:noescape
func spaceMask(line []byte, mask *[maskWords]uint64)
