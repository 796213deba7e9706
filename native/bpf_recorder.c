/* The eBPF recording source: maps, the two programs, loading and attaching
 * (see bpf_recorder.h for what is kept). Everything goes through bpf(2). */
#define _GNU_SOURCE
#include "bpf_recorder.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bpf_asm.h"

#define R0 0
#define R1 1
#define R2 2
#define R3 3
#define R4 4
#define R6 6
#define R7 7
#define R8 8
#define R9 9
#define R10 10

#define CG_VALUE_SIZE ((int)sizeof(struct sr_bpf_cgroup))
#define OFF_PHASE ((int16_t)offsetof(struct sr_bpf_cgroup, phase))
#define OFF_OOR ((int16_t)offsetof(struct sr_bpf_cgroup, out_of_range))
#define OFF_FIRST_TGID ((int16_t)offsetof(struct sr_bpf_cgroup, first_tgid))
#define OFF_ARGS_DROPPED ((int16_t)offsetof(struct sr_bpf_cgroup, args_dropped))
#define OFF_DISTINCT ((int16_t)offsetof(struct sr_bpf_cgroup, distinct))
#define OFF_OVERFLOW ((int16_t)offsetof(struct sr_bpf_cgroup, overflow))
#define OFF_WORKLOAD_TGID ((int16_t)offsetof(struct sr_bpf_cgroup, workload_tgid))
#define PHASE_STRIDE (SR_BPF_ABIS * SR_BPF_MAX_NR * 4)
#define ABI_STRIDE (SR_BPF_MAX_NR * 4)

/* Watch-map value bits: which arguments to keep, and whether this is an exec. */
#define W_SLOT_MASK 0xff      /* watch slot + 1; 0 = no arguments kept */
#define W_OFF_A_SHIFT 8       /* pt_regs offset / 8 of the first argument (or execveat's flags) */
#define W_OFF_B_SHIFT 16      /* pt_regs offset / 8 of the second argument; 0xff = none */
#define W_EXEC (1u << 24)     /* execve/execveat: may start the workload */
#define W_EXEC_FLAGS (1u << 25) /* execveat: the A offset is its flags argument */
#define EXEC_BY_FD 0x80000000u

/* Stack slots of the sys_enter program (offsets from r10). */
#define S_CGID -8
#define S_SCRATCH -16
#define S_KEY32 -20
#define S_PHASE -24
#define S_ONE -28
#define S_W -32
#define S_EXECVAL -36
#define S_ARGKEY -72 /* struct sr_bpf_args_key, 32 bytes */

#if defined(__x86_64__)
/* struct pt_regs offsets: native/x32 argument registers, i386 ones, and cs. */
static const int native_arg_off[6] = { 112, 104, 96, 56, 72, 64 };
static const int i386_arg_off[6] = { 40, 88, 96, 104, 112, 32 };
#define TS_COMPAT 0x0002 /* arch/x86 thread_info.status: inside a 32-bit syscall */
#define X32_BIT 0x40000000
#endif

static long sys_bpf(int cmd, union bpf_attr *attr)
{
    return syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static int fail(struct sr_bpf *b, int err, const char *fmt, const char *detail)
{
    snprintf(b->error, sizeof b->error, fmt, detail ? detail : "", strerror(err));
    b->error_errno = err;
    return err;
}

static int map_create(uint32_t type, uint32_t key, uint32_t value, uint32_t max, uint32_t flags, const char *name)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = type;
    a.key_size = key;
    a.value_size = value;
    a.max_entries = max;
    a.map_flags = flags;
    strncpy(a.map_name, name, sizeof a.map_name - 1);
    return (int)sys_bpf(BPF_MAP_CREATE, &a);
}

/* One element operation (lookup, update, delete, next key); returns 0 or an errno. */
static int map_op(int cmd, int fd, const void *key, void *value_or_next, uint64_t flags)
{
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_fd = (uint32_t)fd;
    a.key = (uint64_t)(uintptr_t)key;
    if (cmd == BPF_MAP_GET_NEXT_KEY)
        a.next_key = (uint64_t)(uintptr_t)value_or_next;
    else
        a.value = (uint64_t)(uintptr_t)value_or_next;
    a.flags = flags;
    return sys_bpf(cmd, &a) < 0 ? errno : 0;
}

#define map_update(fd, key, value, flags) map_op(BPF_MAP_UPDATE_ELEM, fd, key, (void *)(value), flags)
#define map_lookup(fd, key, value) map_op(BPF_MAP_LOOKUP_ELEM, fd, key, value, 0)
#define map_delete(fd, key) map_op(BPF_MAP_DELETE_ELEM, fd, key, NULL, 0)
#define map_next_key(fd, key, next) map_op(BPF_MAP_GET_NEXT_KEY, fd, key, next, 0)

/* r1 = &stack[off] */
static void stack_ptr(struct sr_asm *a, int reg, int off)
{
    A_MOV_REG(a, reg, R10);
    A_ALU_IMM(a, BPF_ADD, reg, off);
}

/* r0 = lookup(map, &stack[key_off]) */
static void lookup(struct sr_asm *a, int map_fd, int key_off)
{
    sr_asm_map_fd(a, R1, map_fd);
    stack_ptr(a, R2, key_off);
    A_CALL(a, BPF_FUNC_map_lookup_elem);
}

/* r0 = probe_read(&stack[dst_off], 8, (void *)(regs + off_reg)): off_reg holds an offset or -1 for none. */
static void read_regs_at(struct sr_asm *a, int read_fn, int dst_off, int off_reg)
{
    stack_ptr(a, R1, dst_off);
    A_MOV_IMM(a, R2, 8);
    A_MOV_REG(a, R3, R6);
    if (off_reg >= 0)
        A_ALU_REG(a, BPF_ADD, R3, off_reg);
    A_CALL(a, read_fn);
}

enum {
    L_OUT, L_HAVE_CG, L_RELOOKUP, L_ARCH, L_NOT_I386, L_RANGED, L_OOR, L_ARGWATCH, L_STORE_EXEC,
    L_SKIP_B, L_LOOKUP_ARGS, L_OVERFLOW, L_COUNTED, L_CREATE_FAILED,
};

/* The sys_enter program: ctx is u64[2] = { struct pt_regs *, syscall id }. */
static int build_enter(struct sr_asm *a, const struct sr_bpf *b, int read_fn)
{
    sr_asm_init(a);
    /* r7 = syscall id, r6 = the task's saved registers (a kernel address, read with probe_read) */
    A_LDX(a, BPF_DW, R7, R1, 8);
    A_LDX(a, BPF_DW, R6, R1, 0);
    A_CALL(a, BPF_FUNC_get_current_cgroup_id);
    A_STX(a, BPF_DW, R10, R0, S_CGID);

    /* Block: find the cgroup's value. Agent mode skips ignored cgroups first
     * (the cheapest path for the node's own processes) and creates an entry
     * for any other cgroup on its first call, so nothing a new container
     * does is missed while the agent is still naming it. */
    if (b->auto_mode) {
        lookup(a, b->ignored_fd, S_CGID);
        A_JMP_IMM(a, BPF_JNE, R0, 0, L_OUT);
    }
    lookup(a, b->cgroups_fd, S_CGID);
    A_JMP_IMM(a, BPF_JNE, R0, 0, L_HAVE_CG);
    if (!b->auto_mode) {
        A_JA(a, L_OUT);
    } else {
        A_ST_IMM(a, BPF_W, R10, S_KEY32, 0);
        lookup(a, b->zero_fd, S_KEY32);
        A_JMP_IMM(a, BPF_JEQ, R0, 0, L_OUT);
        A_MOV_REG(a, R3, R0);
        sr_asm_map_fd(a, R1, b->cgroups_fd);
        stack_ptr(a, R2, S_CGID);
        A_MOV_IMM(a, R4, BPF_NOEXIST);
        A_CALL(a, BPF_FUNC_map_update_elem);
        A_JMP_IMM(a, BPF_JEQ, R0, 0, L_RELOOKUP);
        A_JMP_IMM(a, BPF_JEQ, R0, -EEXIST, L_RELOOKUP);
        sr_asm_label(a, L_CREATE_FAILED); /* cgroups map full: counted, never silent */
        A_ST_IMM(a, BPF_W, R10, S_KEY32, SR_BPF_STAT_CGROUPS_FULL);
        lookup(a, b->stats_fd, S_KEY32);
        A_JMP_IMM(a, BPF_JEQ, R0, 0, L_OUT);
        A_MOV_IMM(a, R1, 1);
        A_XADD(a, BPF_DW, R0, R1, 0);
        A_JA(a, L_OUT);
        sr_asm_label(a, L_RELOOKUP);
        lookup(a, b->cgroups_fd, S_CGID);
        A_JMP_IMM(a, BPF_JEQ, R0, 0, L_OUT);
    }
    sr_asm_label(a, L_HAVE_CG);
    A_MOV_REG(a, R8, R0);

    /* Block: remember the first task seen in this cgroup (for naming it). */
    A_LDX(a, BPF_W, R1, R8, OFF_FIRST_TGID);
    A_JMP_IMM(a, BPF_JNE, R1, 0, L_ARCH);
    A_CALL(a, BPF_FUNC_get_current_pid_tgid);
    A_ALU_IMM(a, BPF_RSH, R0, 32);
    A_STX(a, BPF_W, R8, R0, OFF_FIRST_TGID);

    /* Block: which ABI made the call. The kernel marks a task inside a
     * 32-bit syscall (int 0x80 from any code, sysenter, a 32-bit task's
     * syscall) with TS_COMPAT in thread_info.status, which sits at a fixed
     * place at the start of task_struct; x32 numbers carry bit 30.
     * r9 = ABI index. */
    sr_asm_label(a, L_ARCH);
    A_MOV_IMM(a, R9, 0);
#if defined(__x86_64__)
    A_CALL(a, BPF_FUNC_get_current_task);
    A_MOV_REG(a, R3, R0);
    A_ALU_IMM(a, BPF_ADD, R3, b->ts_status_offset);
    stack_ptr(a, R1, S_SCRATCH);
    A_MOV_IMM(a, R2, 4);
    A_CALL(a, read_fn);
    A_JMP_IMM(a, BPF_JNE, R0, 0, L_NOT_I386);
    A_LDX(a, BPF_W, R1, R10, S_SCRATCH);
    A_ALU_IMM(a, BPF_AND, R1, TS_COMPAT);
    A_JMP_IMM(a, BPF_JEQ, R1, 0, L_NOT_I386);
    A_MOV_IMM(a, R9, 1);
    A_JA(a, L_RANGED);
    sr_asm_label(a, L_NOT_I386);
    A_MOV_REG(a, R1, R7);
    A_ALU_IMM(a, BPF_AND, R1, X32_BIT);
    A_JMP_IMM(a, BPF_JEQ, R1, 0, L_RANGED);
    A_MOV_IMM(a, R9, 2);
    A_ALU_IMM(a, BPF_AND, R7, ~X32_BIT);
#else
    sr_asm_label(a, L_NOT_I386);
#endif

    /* Block: count it: counts[phase][abi][nr] += 1 (atomic). */
    sr_asm_label(a, L_RANGED);
    A_JMP_IMM(a, BPF_JGT, R7, SR_BPF_MAX_NR - 1, L_OOR);
    A_LDX(a, BPF_W, R1, R8, OFF_PHASE);
    A_ALU_IMM(a, BPF_AND, R1, 1);
    A_STX(a, BPF_W, R10, R1, S_PHASE);
    A_MOV_REG(a, R2, R1);
    A_ALU_IMM(a, BPF_MUL, R2, PHASE_STRIDE);
    A_MOV_REG(a, R3, R9);
    A_ALU_IMM(a, BPF_MUL, R3, ABI_STRIDE);
    A_ALU_REG(a, BPF_ADD, R2, R3);
    A_MOV_REG(a, R3, R7);
    A_ALU_IMM(a, BPF_LSH, R3, 2);
    A_ALU_REG(a, BPF_ADD, R2, R3);
    A_MOV_REG(a, R3, R8);
    A_ALU_REG(a, BPF_ADD, R3, R2);
    A_MOV_IMM(a, R4, 1);
    A_XADD(a, BPF_W, R3, R4, 0);

    /* Block: is this call watched (arguments kept) or an exec? */
    A_MOV_REG(a, R1, R9);
    A_ALU_IMM(a, BPF_LSH, R1, 10);
    A_ALU_REG(a, BPF_ADD, R1, R7);
    A_STX(a, BPF_W, R10, R1, S_KEY32);
    lookup(a, b->watch_fd, S_KEY32);
    A_JMP_IMM(a, BPF_JEQ, R0, 0, L_OUT);
    A_LDX(a, BPF_W, R1, R0, 0);
    A_JMP_IMM(a, BPF_JEQ, R1, 0, L_OUT);
    A_STX(a, BPF_W, R10, R1, S_W);
    A_ALU_IMM(a, BPF_AND, R1, W_EXEC);
    A_JMP_IMM(a, BPF_JEQ, R1, 0, L_ARGWATCH);

    /* Block: an exec in the runtime phase. Remember it per tgid with whether
     * it runs a file descriptor (execveat + AT_EMPTY_PATH: runc's self-copy),
     * for the exec program to decide whether the workload starts. */
    A_LDX(a, BPF_W, R1, R10, S_PHASE);
    A_JMP_IMM(a, BPF_JNE, R1, 0, L_OUT);
    A_MOV_REG(a, R1, R9);
    A_ALU_IMM(a, BPF_LSH, R1, 16);
    A_ALU_REG(a, BPF_OR, R1, R7);
    A_STX(a, BPF_W, R10, R1, S_EXECVAL);
    A_LDX(a, BPF_W, R1, R10, S_W);
    A_ALU_IMM(a, BPF_AND, R1, W_EXEC_FLAGS);
    A_JMP_IMM(a, BPF_JEQ, R1, 0, L_STORE_EXEC);
    A_LDX(a, BPF_W, R4, R10, S_W);
    A_ALU_IMM(a, BPF_RSH, R4, W_OFF_A_SHIFT);
    A_ALU_IMM(a, BPF_AND, R4, 0xff);
    A_ALU_IMM(a, BPF_LSH, R4, 3);
    read_regs_at(a, read_fn, S_SCRATCH, R4);
    A_JMP_IMM(a, BPF_JNE, R0, 0, L_STORE_EXEC);
    A_LDX(a, BPF_DW, R1, R10, S_SCRATCH);
    A_ALU_IMM(a, BPF_AND, R1, 0x1000 /* AT_EMPTY_PATH */);
    A_JMP_IMM(a, BPF_JEQ, R1, 0, L_STORE_EXEC);
    A_LDX(a, BPF_W, R1, R10, S_EXECVAL);
    A_ALU_IMM(a, BPF_OR, R1, (int32_t)EXEC_BY_FD);
    A_STX(a, BPF_W, R10, R1, S_EXECVAL);
    sr_asm_label(a, L_STORE_EXEC);
    A_CALL(a, BPF_FUNC_get_current_pid_tgid);
    A_ALU_IMM(a, BPF_RSH, R0, 32);
    A_STX(a, BPF_W, R10, R0, S_KEY32);
    sr_asm_map_fd(a, R1, b->execs_fd);
    stack_ptr(a, R2, S_KEY32);
    stack_ptr(a, R3, S_EXECVAL);
    A_MOV_IMM(a, R4, BPF_ANY);
    A_CALL(a, BPF_FUNC_map_update_elem);
    A_JA(a, L_OUT);

    /* Block: a watched call. Build the args key (cgroup, phase|abi|nr, a, b)
     * from the saved registers; a tuple already there costs one lookup. */
    sr_asm_label(a, L_ARGWATCH);
    A_LDX(a, BPF_DW, R1, R10, S_CGID);
    A_STX(a, BPF_DW, R10, R1, S_ARGKEY);
    A_LDX(a, BPF_W, R1, R10, S_PHASE);
    A_ALU_IMM(a, BPF_LSH, R1, 28);
    A_MOV_REG(a, R2, R9);
    A_ALU_IMM(a, BPF_LSH, R2, 16);
    A_ALU_REG(a, BPF_OR, R1, R2);
    A_ALU_REG(a, BPF_OR, R1, R7);
    A_STX(a, BPF_W, R10, R1, S_ARGKEY + 8);
    A_ST_IMM(a, BPF_W, R10, S_ARGKEY + 12, 0);
    A_ST_IMM(a, BPF_DW, R10, S_ARGKEY + 16, 0);
    A_ST_IMM(a, BPF_DW, R10, S_ARGKEY + 24, 0);
    A_LDX(a, BPF_W, R4, R10, S_W);
    A_ALU_IMM(a, BPF_RSH, R4, W_OFF_A_SHIFT);
    A_ALU_IMM(a, BPF_AND, R4, 0xff);
    A_ALU_IMM(a, BPF_LSH, R4, 3);
    read_regs_at(a, read_fn, S_ARGKEY + 16, R4);
    A_LDX(a, BPF_W, R4, R10, S_W);
    A_ALU_IMM(a, BPF_RSH, R4, W_OFF_B_SHIFT);
    A_ALU_IMM(a, BPF_AND, R4, 0xff);
    A_JMP_IMM(a, BPF_JEQ, R4, 0xff, L_SKIP_B);
    A_ALU_IMM(a, BPF_LSH, R4, 3);
    read_regs_at(a, read_fn, S_ARGKEY + 24, R4);
    sr_asm_label(a, L_SKIP_B);
    /* i386 arguments are 32 bits wide: keep them as seccomp sees them */
    A_JMP_IMM(a, BPF_JNE, R9, 1, L_LOOKUP_ARGS);
    A_LDX(a, BPF_DW, R1, R10, S_ARGKEY + 16);
    A_MOV32_REG(a, R1, R1);
    A_STX(a, BPF_DW, R10, R1, S_ARGKEY + 16);
    A_LDX(a, BPF_DW, R1, R10, S_ARGKEY + 24);
    A_MOV32_REG(a, R1, R1);
    A_STX(a, BPF_DW, R10, R1, S_ARGKEY + 24);
    sr_asm_label(a, L_LOOKUP_ARGS);
    lookup(a, b->args_fd, S_ARGKEY);
    A_JMP_IMM(a, BPF_JNE, R0, 0, L_OUT);

    /* Block: a new tuple. r9 becomes the (phase, slot) word offset; past the
     * bound the slot is marked overflowed instead of growing. */
    A_LDX(a, BPF_W, R1, R10, S_W);
    A_ALU_IMM(a, BPF_AND, R1, W_SLOT_MASK);
    A_ALU_IMM(a, BPF_SUB, R1, 1);
    A_ALU_IMM(a, BPF_AND, R1, SR_BPF_MAX_WATCH_SLOTS - 1);
    A_LDX(a, BPF_W, R2, R10, S_PHASE);
    A_ALU_IMM(a, BPF_AND, R2, 1);
    A_ALU_IMM(a, BPF_LSH, R2, 5); /* phase * SR_BPF_MAX_WATCH_SLOTS */
    A_ALU_REG(a, BPF_ADD, R1, R2);
    A_ALU_IMM(a, BPF_LSH, R1, 2);
    A_MOV_REG(a, R9, R1);
    A_MOV_REG(a, R2, R8);
    A_ALU_REG(a, BPF_ADD, R2, R9);
    A_LDX(a, BPF_W, R1, R2, OFF_DISTINCT);
    A_JMP_IMM(a, BPF_JGE, R1, SR_BPF_MAX_ARG_VALUES, L_OVERFLOW);
    A_ST_IMM(a, BPF_W, R10, S_ONE, 1);
    sr_asm_map_fd(a, R1, b->args_fd);
    stack_ptr(a, R2, S_ARGKEY);
    stack_ptr(a, R3, S_ONE);
    A_MOV_IMM(a, R4, BPF_NOEXIST);
    A_CALL(a, BPF_FUNC_map_update_elem);
    A_JMP_IMM(a, BPF_JEQ, R0, 0, L_COUNTED);
    A_JMP_IMM(a, BPF_JEQ, R0, -EEXIST, L_OUT);
    A_MOV_IMM(a, R2, 1); /* the shared args map is full: counted, and the slot marked */
    A_XADD(a, BPF_W, R8, R2, OFF_ARGS_DROPPED);
    sr_asm_label(a, L_OVERFLOW);
    A_MOV_REG(a, R1, R8);
    A_ALU_REG(a, BPF_ADD, R1, R9);
    A_ST_IMM(a, BPF_W, R1, OFF_OVERFLOW, 1);
    A_JA(a, L_OUT);
    sr_asm_label(a, L_COUNTED);
    A_MOV_REG(a, R1, R8);
    A_ALU_REG(a, BPF_ADD, R1, R9);
    A_MOV_IMM(a, R2, 1);
    A_XADD(a, BPF_W, R1, R2, OFF_DISTINCT);
    A_JA(a, L_OUT);

    sr_asm_label(a, L_OOR);
    A_MOV_IMM(a, R2, 1);
    A_XADD(a, BPF_W, R8, R2, OFF_OOR);
    sr_asm_label(a, L_OUT);
    A_MOV_IMM(a, R0, 0);
    A_EXIT(a);
    return sr_asm_finish(a);
}

enum { E_OUT };

/* The sched_process_exec program: an exec succeeded. If it is the first one
 * of a cgroup still in its runtime phase, and it did not run a file
 * descriptor, the workload starts here: later calls count as workload, and
 * the exec call itself too (the runtime made it under the filter). */
static int build_exec(struct sr_asm *a, const struct sr_bpf *b)
{
    sr_asm_init(a);
    A_CALL(a, BPF_FUNC_get_current_cgroup_id);
    A_STX(a, BPF_DW, R10, R0, -8);
    lookup(a, b->cgroups_fd, -8);
    A_JMP_IMM(a, BPF_JEQ, R0, 0, E_OUT);
    A_MOV_REG(a, R8, R0);
    A_LDX(a, BPF_W, R1, R8, OFF_PHASE);
    A_JMP_IMM(a, BPF_JNE, R1, 0, E_OUT);
    A_CALL(a, BPF_FUNC_get_current_pid_tgid);
    A_ALU_IMM(a, BPF_RSH, R0, 32);
    A_STX(a, BPF_W, R10, R0, -12);
    lookup(a, b->execs_fd, -12);
    A_JMP_IMM(a, BPF_JEQ, R0, 0, E_OUT);
    A_LDX(a, BPF_W, R9, R0, 0);
    sr_asm_map_fd(a, R1, b->execs_fd);
    stack_ptr(a, R2, -12);
    A_CALL(a, BPF_FUNC_map_delete_elem);
    A_MOV_REG(a, R1, R9);
    A_ALU_IMM(a, BPF_RSH, R1, 31);
    A_JMP_IMM(a, BPF_JNE, R1, 0, E_OUT);
    A_ST_IMM(a, BPF_W, R8, OFF_PHASE, 1);
    A_LDX(a, BPF_W, R1, R10, -12);
    A_STX(a, BPF_W, R8, R1, OFF_WORKLOAD_TGID);
    A_MOV_REG(a, R2, R9);
    A_ALU_IMM(a, BPF_RSH, R2, 16);
    A_ALU_IMM(a, BPF_AND, R2, 3);
    A_JMP_IMM(a, BPF_JGT, R2, SR_BPF_ABIS - 1, E_OUT);
    A_ALU_IMM(a, BPF_MUL, R2, ABI_STRIDE);
    A_MOV_REG(a, R3, R9);
    A_ALU_IMM(a, BPF_AND, R3, 0xffff);
    A_JMP_IMM(a, BPF_JGT, R3, SR_BPF_MAX_NR - 1, E_OUT);
    A_ALU_IMM(a, BPF_LSH, R3, 2);
    A_ALU_REG(a, BPF_ADD, R2, R3);
    A_ALU_IMM(a, BPF_ADD, R2, PHASE_STRIDE);
    A_MOV_REG(a, R1, R8);
    A_ALU_REG(a, BPF_ADD, R1, R2);
    A_MOV_IMM(a, R4, 1);
    A_XADD(a, BPF_W, R1, R4, 0);
    sr_asm_label(a, E_OUT);
    A_MOV_IMM(a, R0, 0);
    A_EXIT(a);
    return sr_asm_finish(a);
}

/* Loads a raw tracepoint program; on failure reloads with the verifier log
 * and keeps its last line for the error. */
static int prog_load(struct sr_bpf *b, const struct sr_asm *a, const char *what)
{
    static char log[65536];
    union bpf_attr at;
    int fd;
    memset(&at, 0, sizeof at);
    at.prog_type = BPF_PROG_TYPE_RAW_TRACEPOINT;
    at.insns = (uint64_t)(uintptr_t)a->insns;
    at.insn_cnt = (uint32_t)a->n;
    /* The kernel lets GPL-compatible programs only call probe_read_kernel. */
    at.license = (uint64_t)(uintptr_t)"GPL";
    fd = (int)sys_bpf(BPF_PROG_LOAD, &at);
    if (fd >= 0)
        return fd;
    {
        int err = errno;
        char detail[300];
        const char *last = "";
        if (err != EPERM) {
            size_t len;
            char *nl;
            log[0] = 0;
            at.log_buf = (uint64_t)(uintptr_t)log;
            at.log_size = sizeof log;
            at.log_level = 1;
            if (sys_bpf(BPF_PROG_LOAD, &at) < 0) {
                len = strlen(log);
                while (len && log[len - 1] == '\n')
                    log[--len] = 0;
                nl = strrchr(log, '\n');
                last = nl ? nl + 1 : log;
            }
        }
        snprintf(detail, sizeof detail, "%s%s%.200s", what, *last ? ": verifier: " : "", last);
        return -fail(b, err,
                     err == EPERM ? "cannot load the %s program (needs root, or CAP_BPF with CAP_PERFMON on Linux >= 5.8): %s"
                                  : "the kernel refused the %s program: %s",
                     detail);
    }
}

static int attach(struct sr_bpf *b, int prog_fd, const char *tp)
{
    union bpf_attr at;
    int fd;
    memset(&at, 0, sizeof at);
    at.raw_tracepoint.name = (uint64_t)(uintptr_t)tp;
    at.raw_tracepoint.prog_fd = (uint32_t)prog_fd;
    fd = (int)sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &at);
    if (fd < 0)
        return -fail(b, errno, "cannot attach to the raw tracepoint %s: %s", tp);
    return fd;
}

static uint32_t watch_value(int abi, int8_t arg_a, int8_t arg_b, int slot)
{
#if defined(__x86_64__)
    const int *offs = abi == 1 ? i386_arg_off : native_arg_off;
    uint32_t v = (uint32_t)(slot + 1) & W_SLOT_MASK;
    v |= (uint32_t)(offs[arg_a] / 8) << W_OFF_A_SHIFT;
    v |= (arg_b >= 0 ? (uint32_t)(offs[arg_b] / 8) : 0xffu) << W_OFF_B_SHIFT;
    return v;
#else
    (void)abi, (void)arg_a, (void)arg_b, (void)slot;
    return 0;
#endif
}

/* thread_info opens task_struct on x86_64; Linux 5.11 put syscall_work
 * between its flags and status. */
static int thread_status_offset(void)
{
    struct utsname u;
    int major = 0, minor = 0;
    if (uname(&u) == 0)
        sscanf(u.release, "%d.%d", &major, &minor);
    return major > 5 || (major == 5 && minor >= 11) ? 16 : 8;
}

static void init_fds(struct sr_bpf *b)
{
    b->cgroups_fd = b->ignored_fd = b->zero_fd = b->watch_fd = b->args_fd = b->execs_fd = b->stats_fd = -1;
    b->enter_prog_fd = b->exec_prog_fd = b->enter_link_fd = b->exec_link_fd = -1;
}

static int fill_watch_map(struct sr_bpf *b, const struct sr_bpf_options *o)
{
    uint32_t i;
    int slot = 0, err;
    for (i = 0; i < o->nwatches; i++) {
        const struct sr_bpf_watch *w = &o->watches[i];
        uint32_t key = w->abi * SR_BPF_MAX_NR + w->nr, v;
        if (w->abi >= SR_BPF_ABIS || w->nr >= SR_BPF_MAX_NR || w->arg_a < 0 || w->arg_a > 5 || w->arg_b > 5)
            continue;
        if (slot >= SR_BPF_MAX_WATCH_SLOTS)
            return fail(b, E2BIG, "too many watched syscalls%s: %s", "");
        v = watch_value((int)w->abi, w->arg_a, w->arg_b, slot++);
        if ((err = map_update(b->watch_fd, &key, &v, BPF_ANY)))
            return fail(b, err, "cannot fill the watch map%s: %s", "");
    }
    for (i = 0; i < o->nexecs; i++) {
        const struct sr_bpf_exec_call *e = &o->execs[i];
        uint32_t key = e->abi * SR_BPF_MAX_NR + e->nr, v = W_EXEC;
        if (e->abi >= SR_BPF_ABIS || e->nr >= SR_BPF_MAX_NR)
            continue;
#if defined(__x86_64__)
        if (e->flags_arg >= 0 && e->flags_arg <= 5) {
            const int *offs = e->abi == 1 ? i386_arg_off : native_arg_off;
            v |= W_EXEC_FLAGS | (uint32_t)(offs[(int)e->flags_arg] / 8) << W_OFF_A_SHIFT;
        }
#endif
        if ((err = map_update(b->watch_fd, &key, &v, BPF_ANY)))
            return fail(b, err, "cannot fill the watch map%s: %s", "");
    }
    return 0;
}

int sr_bpf_open(struct sr_bpf *b, const struct sr_bpf_options *o)
{
    static struct sr_asm a; /* 4 KiB of instructions: not on the stack */
    int err, fd;
    memset(b, 0, sizeof *b);
    init_fds(b);
    b->auto_mode = o->auto_mode;
    b->ts_status_offset = thread_status_offset();
    b->max_cgroups = o->max_cgroups ? o->max_cgroups : 512;
#if !defined(__x86_64__)
    return fail(b, ENOTSUP, "the bpf source reads x86_64 registers; this build is for another architecture%s: %s", "");
#endif
    b->cgroups_fd = map_create(BPF_MAP_TYPE_HASH, 8, CG_VALUE_SIZE, b->max_cgroups, BPF_F_NO_PREALLOC, "sr_cgroups");
    if (b->cgroups_fd < 0) {
        err = errno;
        sr_bpf_close(b);
        return fail(b, err,
                    err == EPERM ? "cannot create BPF maps (needs root, or CAP_BPF on Linux >= 5.8)%s: %s"
                                 : "cannot create BPF maps%s: %s", "");
    }
    b->ignored_fd = map_create(BPF_MAP_TYPE_HASH, 8, 4, 8192, BPF_F_NO_PREALLOC, "sr_ignored");
    b->zero_fd = map_create(BPF_MAP_TYPE_ARRAY, 4, CG_VALUE_SIZE, 1, 0, "sr_zero");
    b->watch_fd = map_create(BPF_MAP_TYPE_ARRAY, 4, 4, SR_BPF_ABIS * SR_BPF_MAX_NR, 0, "sr_watch");
    b->args_fd = map_create(BPF_MAP_TYPE_HASH, sizeof(struct sr_bpf_args_key), 4,
                            o->max_arg_tuples ? o->max_arg_tuples : 16384, BPF_F_NO_PREALLOC, "sr_args");
    b->execs_fd = map_create(BPF_MAP_TYPE_LRU_HASH, 4, 4, 4096, 0, "sr_execs");
    b->stats_fd = map_create(BPF_MAP_TYPE_ARRAY, 4, 8, SR_BPF_STAT_COUNT, 0, "sr_stats");
    if (b->ignored_fd < 0 || b->zero_fd < 0 || b->watch_fd < 0 || b->args_fd < 0 || b->execs_fd < 0 ||
        b->stats_fd < 0) {
        err = errno;
        sr_bpf_close(b);
        return fail(b, err, "cannot create BPF maps%s: %s", "");
    }
    if (fill_watch_map(b, o))
        goto failed;

    /* probe_read_kernel (5.5+) where the kernel has it, probe_read before. */
    if (build_enter(&a, b, BPF_FUNC_probe_read_kernel))
        goto assembly_failed;
    fd = prog_load(b, &a, "sys_enter");
    if (fd < 0 && b->error_errno == EINVAL) {
        if (build_enter(&a, b, BPF_FUNC_probe_read))
            goto assembly_failed;
        fd = prog_load(b, &a, "sys_enter");
    }
    if (fd < 0)
        goto failed;
    b->enter_prog_fd = fd;
    if (build_exec(&a, b))
        goto assembly_failed;
    if ((fd = prog_load(b, &a, "sched_process_exec")) < 0)
        goto failed;
    b->exec_prog_fd = fd;
    /* exec first: a cgroup must never see its entrypoint exec counted without the phase flip */
    if ((fd = attach(b, b->exec_prog_fd, "sched_process_exec")) < 0)
        goto failed;
    b->exec_link_fd = fd;
    if ((fd = attach(b, b->enter_prog_fd, "sys_enter")) < 0)
        goto failed;
    b->enter_link_fd = fd;
    b->error[0] = 0;
    b->error_errno = 0;
    return 0;

assembly_failed:
    fail(b, EINVAL, "internal error assembling the BPF programs%s: %s", "");
failed: /* closing keeps b->error for the caller */
    sr_bpf_close(b);
    return b->error_errno ? b->error_errno : EINVAL;
}

void sr_bpf_close(struct sr_bpf *b)
{
    int *fds[] = { &b->enter_link_fd, &b->exec_link_fd, &b->enter_prog_fd, &b->exec_prog_fd, &b->cgroups_fd,
                   &b->ignored_fd, &b->zero_fd, &b->watch_fd, &b->args_fd, &b->execs_fd, &b->stats_fd };
    size_t i;
    for (i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}

int sr_bpf_add_cgroup(struct sr_bpf *b, uint64_t cgroup)
{
    static struct sr_bpf_cgroup zero;
    int err = map_update(b->cgroups_fd, &cgroup, &zero, BPF_NOEXIST);
    return err == EEXIST ? 0 : err;
}

int sr_bpf_ignore_cgroup(struct sr_bpf *b, uint64_t cgroup, int ignore)
{
    uint32_t one = 1;
    int err;
    if (!ignore) {
        err = map_delete(b->ignored_fd, &cgroup);
        return err == ENOENT ? 0 : err;
    }
    return map_update(b->ignored_fd, &cgroup, &one, BPF_ANY);
}

int sr_bpf_read_cgroup(struct sr_bpf *b, uint64_t cgroup, struct sr_bpf_cgroup *out)
{
    return map_lookup(b->cgroups_fd, &cgroup, out);
}

int sr_bpf_list_cgroups(struct sr_bpf *b, uint64_t *ids, int max)
{
    uint64_t key = 0, next;
    int n = 0, err, first = 1;
    for (;;) {
        err = map_next_key(b->cgroups_fd, first ? NULL : &key, &next);
        if (err == ENOENT)
            return n;
        if (err)
            return -err;
        first = 0;
        if (n < max)
            ids[n] = next;
        n++;
        key = next;
        if (n > (int)b->max_cgroups * 2) /* entries deleted while walking can restart the walk */
            return n > max ? max : n;
    }
}

int sr_bpf_each_args(struct sr_bpf *b, uint64_t cgroup, void (*fn)(const struct sr_bpf_args_key *, void *), void *user)
{
    struct sr_bpf_args_key key, next;
    int err, first = 1;
    for (;;) {
        err = map_next_key(b->args_fd, first ? NULL : &key, &next);
        if (err == ENOENT)
            return 0;
        if (err)
            return err;
        first = 0;
        if (next.cgroup == cgroup)
            fn(&next, user);
        key = next;
    }
}

int sr_bpf_forget_cgroup(struct sr_bpf *b, uint64_t cgroup)
{
    struct sr_bpf_args_key key, next;
    struct sr_bpf_args_key *doomed = NULL;
    size_t n = 0, cap = 0, i;
    int err, first = 1;
    for (;;) {
        err = map_next_key(b->args_fd, first ? NULL : &key, &next);
        if (err)
            break;
        first = 0;
        if (next.cgroup == cgroup) {
            if (n == cap) {
                struct sr_bpf_args_key *grown = realloc(doomed, (cap = cap ? cap * 2 : 64) * sizeof *doomed);
                if (!grown)
                    break;
                doomed = grown;
            }
            doomed[n++] = next;
        }
        key = next;
    }
    for (i = 0; i < n; i++)
        map_delete(b->args_fd, &doomed[i]);
    free(doomed);
    err = map_delete(b->cgroups_fd, &cgroup);
    return err == ENOENT ? 0 : err;
}

int sr_bpf_stat(struct sr_bpf *b, int which, uint64_t *out)
{
    uint32_t key = (uint32_t)which;
    return map_lookup(b->stats_fd, &key, out);
}
