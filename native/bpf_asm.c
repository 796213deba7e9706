/* The tiny eBPF assembler (see bpf_asm.h). */
#include "bpf_asm.h"

#include <string.h>

void sr_asm_init(struct sr_asm *a)
{
    int i;
    memset(a, 0, sizeof *a);
    for (i = 0; i < SR_ASM_MAX_LABELS; i++)
        a->label_at[i] = -1;
}

void sr_asm_emit(struct sr_asm *a, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
    struct bpf_insn *in;
    if (a->n >= SR_ASM_MAX_INSNS) {
        a->overflow = 1;
        return;
    }
    in = &a->insns[a->n++];
    in->code = code;
    in->dst_reg = dst & 0xf;
    in->src_reg = src & 0xf;
    in->off = off;
    in->imm = imm;
}

void sr_asm_label(struct sr_asm *a, int label)
{
    if (label < 0 || label >= SR_ASM_MAX_LABELS) {
        a->overflow = 1;
        return;
    }
    a->label_at[label] = a->n;
}

void sr_asm_jump(struct sr_asm *a, uint8_t code, uint8_t dst, uint8_t src, int32_t imm, int label)
{
    if (a->nfixups >= SR_ASM_MAX_FIXUPS || label < 0 || label >= SR_ASM_MAX_LABELS) {
        a->overflow = 1;
        return;
    }
    a->fixups[a->nfixups].insn = a->n;
    a->fixups[a->nfixups].label = label;
    a->nfixups++;
    sr_asm_emit(a, code, dst, src, 0, imm);
}

void sr_asm_map_fd(struct sr_asm *a, uint8_t dst, int fd)
{
    sr_asm_emit(a, BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd);
    sr_asm_emit(a, 0, 0, 0, 0, 0);
}

int sr_asm_finish(struct sr_asm *a)
{
    int i;
    if (a->overflow)
        return -1;
    for (i = 0; i < a->nfixups; i++) {
        int at = a->label_at[a->fixups[i].label];
        int from = a->fixups[i].insn;
        if (at < 0)
            return -1;
        a->insns[from].off = (int16_t)(at - from - 1);
    }
    return 0;
}
