/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/generate.test.ts > TAP > formats: SPO v1 and v1beta1, Pod snippet > SPO v1beta1 1`] = `
apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: my-app
  annotations:
    seccomp-recorder/x-coverage: '{"inputs":2}'
spec:
  defaultAction: SCMP_ACT_ERRNO
  defaultErrnoRet: 1
  architectures:
    - SCMP_ARCH_X86_64
  syscalls:
    - names:
        - brk
        - close
        - execve
        - exit_group
        - getpid
        - openat
        - read
        - write
      action: SCMP_ACT_ALLOW
    - names:
        - clone
      action: SCMP_ACT_ALLOW
      args:
        - index: 0
          value: 2114060288
          valueTwo: 0
          op: SCMP_CMP_MASKED_EQ
    - names:
        - personality
      action: SCMP_ACT_ALLOW
      args:
        - index: 0
          value: 0
          valueTwo: 0
          op: SCMP_CMP_EQ
    - names:
        - personality
      action: SCMP_ACT_ALLOW
      args:
        - index: 0
          value: 8
          valueTwo: 0
          op: SCMP_CMP_EQ
    - names:
        - socket
      action: SCMP_ACT_ALLOW
      args:
        - index: 0
          value: 40
          valueTwo: 0
          op: SCMP_CMP_NE

`

exports[`test/generate.test.ts > TAP > same input, same bytes; input order does not matter > rec-app + rec-second on the moby-shaped baseline 1`] = `
{
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "architectures": [
    "SCMP_ARCH_X86_64"
  ],
  "syscalls": [
    {
      "names": [
        "brk",
        "close",
        "execve",
        "exit_group",
        "futex",
        "getpid",
        "openat",
        "read",
        "write"
      ],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "names": [
        "clone"
      ],
      "action": "SCMP_ACT_ALLOW",
      "args": [
        {
          "index": 0,
          "value": 2114060288,
          "valueTwo": 0,
          "op": "SCMP_CMP_MASKED_EQ"
        }
      ]
    },
    {
      "names": [
        "clone3"
      ],
      "action": "SCMP_ACT_ERRNO",
      "errnoRet": 38
    },
    {
      "names": [
        "personality"
      ],
      "action": "SCMP_ACT_ALLOW",
      "args": [
        {
          "index": 0,
          "value": 0,
          "valueTwo": 0,
          "op": "SCMP_CMP_EQ"
        }
      ]
    },
    {
      "names": [
        "personality"
      ],
      "action": "SCMP_ACT_ALLOW",
      "args": [
        {
          "index": 0,
          "value": 8,
          "valueTwo": 0,
          "op": "SCMP_CMP_EQ"
        }
      ]
    },
    {
      "names": [
        "socket"
      ],
      "action": "SCMP_ACT_ALLOW",
      "args": [
        {
          "index": 0,
          "value": 40,
          "valueTwo": 0,
          "op": "SCMP_CMP_NE"
        }
      ]
    }
  ]
}

`
