//go:build !unix

package inventory

import "errors"

func mkfifo(string) error { return errors.New("no FIFOs on this system") }
