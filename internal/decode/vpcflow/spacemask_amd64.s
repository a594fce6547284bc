//go:build amd64 && !purego

#include "textflag.h"

// func spaceMask(line []byte, mask *[maskWords]uint64)
//
// Sets bit i of mask (as little-endian bytes) when line[i] is a space, 32
// bytes at a time. It writes the mask's first ceil(len/32)*4 bytes; bits at
// and past len in the last of them are zero. Requires AVX2 and
// 32 ≤ len(line) ≤ 64*maskWords.
TEXT ·spaceMask(SB), NOSPLIT, $0-32
	MOVQ line_base+0(FP), SI
	MOVQ line_len+8(FP), CX
	MOVQ mask+24(FP), DI
	MOVL $0x20, AX
	MOVQ AX, X0
	VPBROADCASTB X0, Y0
	XORQ BX, BX

loop:
	LEAQ 32(BX), DX
	CMPQ DX, CX
	JA   tail
	VPCMPEQB (SI)(BX*1), Y0, Y1
	VPMOVMSKB Y1, AX
	MOVQ BX, R8
	SHRQ $3, R8
	MOVL AX, (DI)(R8*1)
	MOVQ DX, BX
	JMP  loop

tail:
	CMPQ BX, CX
	JAE  done
	// The line's last 32 bytes, shifted past those already seen
	// (BX+32-len of them).
	VPCMPEQB -32(SI)(CX*1), Y0, Y1
	VPMOVMSKB Y1, AX
	SUBQ CX, DX
	MOVQ DX, CX
	SHRL CX, AX
	SHRQ $3, BX
	MOVL AX, (DI)(BX*1)

done:
	VZEROUPPER
	RET
