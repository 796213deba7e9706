/* A tiny eBPF assembler: instruction encoders plus forward labels, so the
 * recorder's programs can be written as readable C without clang, libbpf or
 * kernel headers beyond the uapi ones. Jumps name a label; sr_asm_finish
 * patches their offsets once every label is placed. */
#ifndef SR_BPF_ASM_H
#define SR_BPF_ASM_H

#include <linux/bpf.h>
#include <stdint.h>

#define SR_ASM_MAX_INSNS 512
#define SR_ASM_MAX_LABELS 64
#define SR_ASM_MAX_FIXUPS 128

struct sr_asm {
    struct bpf_insn insns[SR_ASM_MAX_INSNS];
    int n;
    int label_at[SR_ASM_MAX_LABELS]; /* instruction index, -1 while unplaced */
    struct {
        int insn;
        int label;
    } fixups[SR_ASM_MAX_FIXUPS];
    int nfixups;
    int overflow; /* set when any table above ran out */
};

void sr_asm_init(struct sr_asm *a);
void sr_asm_emit(struct sr_asm *a, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm);
void sr_asm_label(struct sr_asm *a, int label);
/* Conditional jump to a label: code is BPF_JMP | op | BPF_K or BPF_X. */
void sr_asm_jump(struct sr_asm *a, uint8_t code, uint8_t dst, uint8_t src, int32_t imm, int label);
/* Loads a map descriptor into a register (two instruction slots). */
void sr_asm_map_fd(struct sr_asm *a, uint8_t dst, int fd);
/* Patches jumps; returns 0, or -1 when a label was never placed or a table overflowed. */
int sr_asm_finish(struct sr_asm *a);

/* Shorthands, one per instruction form the programs use. */
#define A_MOV_IMM(a, d, imm) sr_asm_emit(a, BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, imm)
#define A_MOV_REG(a, d, s) sr_asm_emit(a, BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define A_MOV32_REG(a, d, s) sr_asm_emit(a, BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
#define A_ALU_IMM(a, op, d, imm) sr_asm_emit(a, BPF_ALU64 | (op) | BPF_K, d, 0, 0, imm)
#define A_ALU_REG(a, op, d, s) sr_asm_emit(a, BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define A_LDX(a, size, d, s, off) sr_asm_emit(a, BPF_LDX | (size) | BPF_MEM, d, s, off, 0)
#define A_STX(a, size, d, s, off) sr_asm_emit(a, BPF_STX | (size) | BPF_MEM, d, s, off, 0)
#define A_ST_IMM(a, size, d, off, imm) sr_asm_emit(a, BPF_ST | (size) | BPF_MEM, d, 0, off, imm)
/* lock *(size *)(d + off) += s  (atomic add: every kernel with eBPF) */
#define A_XADD(a, size, d, s, off) sr_asm_emit(a, BPF_STX | (size) | BPF_ATOMIC, d, s, off, BPF_ADD)
#define A_CALL(a, fn) sr_asm_emit(a, BPF_JMP | BPF_CALL, 0, 0, 0, fn)
#define A_EXIT(a) sr_asm_emit(a, BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define A_JMP_IMM(a, op, d, imm, label) sr_asm_jump(a, BPF_JMP | (op) | BPF_K, d, 0, imm, label)
#define A_JA(a, label) sr_asm_jump(a, BPF_JMP | BPF_JA, 0, 0, 0, label)

#endif
