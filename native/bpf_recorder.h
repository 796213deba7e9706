/* The eBPF recording source: two raw-tracepoint programs (sys_enter and
 * sched_process_exec) and their maps, loaded through bpf(2) alone (no libbpf,
 * no BTF, no tracefs). What the kernel keeps, per recorded cgroup (v2 id):
 *
 *   counts[phase][abi][nr]   u32, phase 0 = runtime (before the entrypoint
 *                            exec), 1 = workload; abi 0 native, 1 i386
 *                            (x86_64: TS_COMPAT), 2 x32 (bit 30 of the nr);
 *                            nr < SR_BPF_MAX_NR, others counted in out_of_range
 *   distinct/overflow        per (phase, watched syscall): how many argument
 *                            tuples the args map holds, and whether some were
 *                            dropped (bound SR_BPF_MAX_ARG_VALUES)
 *
 * plus one args map (cgroup, phase, abi, nr, a, b) shared by all cgroups, an
 * LRU map of pending execs (tgid -> the exec call and whether it ran a file
 * descriptor), an ignore set (agent mode) and global counters of full maps. */
#ifndef SR_BPF_RECORDER_H
#define SR_BPF_RECORDER_H

#include <stdint.h>

#define SR_BPF_MAX_NR 1024
#define SR_BPF_ABIS 3
#define SR_BPF_MAX_WATCH_SLOTS 32 /* watched syscalls over all ABIs */
#define SR_BPF_MAX_ARG_VALUES 64

/* Layout of one cgroup's value in the cgroups map (all u32). */
struct sr_bpf_cgroup {
    uint32_t counts[2][SR_BPF_ABIS][SR_BPF_MAX_NR];
    uint32_t phase;
    uint32_t out_of_range;
    uint32_t first_tgid;
    uint32_t args_dropped;
    uint32_t distinct[2][SR_BPF_MAX_WATCH_SLOTS];
    uint32_t overflow[2][SR_BPF_MAX_WATCH_SLOTS];
    uint32_t workload_tgid; /* the task whose exec started the workload */
    uint32_t pad;
};

struct sr_bpf_args_key {
    uint64_t cgroup;
    uint32_t info; /* phase << 28 | abi << 16 | nr */
    uint32_t pad;
    uint64_t a, b;
};

/* Global counters (stats map, one u64 each). */
enum { SR_BPF_STAT_CGROUPS_FULL, SR_BPF_STAT_COUNT };

/* What to watch: the same tuples the notify source takes, resolved to ABI index. */
struct sr_bpf_watch {
    uint32_t abi;
    uint32_t nr;
    int8_t arg_a, arg_b; /* argument indexes; arg_b -1 for none */
};

struct sr_bpf_exec_call {
    uint32_t abi;
    uint32_t nr;
    int8_t flags_arg; /* execveat: index of its flags argument (AT_EMPTY_PATH); -1 for execve */
};

struct sr_bpf {
    int cgroups_fd, ignored_fd, zero_fd, watch_fd, args_fd, execs_fd, stats_fd;
    int enter_prog_fd, exec_prog_fd;
    int enter_link_fd, exec_link_fd;
    int auto_mode;
    int ts_status_offset; /* offset of thread_info.status in task_struct */
    uint32_t max_cgroups;
    char error[512]; /* what failed, for the user */
    int error_errno;
};

struct sr_bpf_options {
    int auto_mode; /* record every cgroup not in the ignore set (agent) */
    uint32_t max_cgroups;
    uint32_t max_arg_tuples;
    const struct sr_bpf_watch *watches;
    uint32_t nwatches;
    const struct sr_bpf_exec_call *execs;
    uint32_t nexecs;
};

/* Creates the maps, loads and attaches both programs. Returns 0, or an errno
 * with b->error saying what is missing (capability, helper, verifier line). */
int sr_bpf_open(struct sr_bpf *b, const struct sr_bpf_options *o);
void sr_bpf_close(struct sr_bpf *b);

/* Starts recording a cgroup (zeroed counts, runtime phase). */
int sr_bpf_add_cgroup(struct sr_bpf *b, uint64_t cgroup);
int sr_bpf_ignore_cgroup(struct sr_bpf *b, uint64_t cgroup, int ignore);
/* Copies a cgroup's value out; ENOENT when it is not recorded. */
int sr_bpf_read_cgroup(struct sr_bpf *b, uint64_t cgroup, struct sr_bpf_cgroup *out);
/* Lists recorded cgroups: fills up to max ids, returns how many (or -errno). */
int sr_bpf_list_cgroups(struct sr_bpf *b, uint64_t *ids, int max);
/* Visits every argument tuple of one cgroup. */
int sr_bpf_each_args(struct sr_bpf *b, uint64_t cgroup, void (*fn)(const struct sr_bpf_args_key *, void *), void *user);
/* Drops a cgroup and its argument tuples from the maps. */
int sr_bpf_forget_cgroup(struct sr_bpf *b, uint64_t cgroup);
int sr_bpf_stat(struct sr_bpf *b, int which, uint64_t *out);

#endif
