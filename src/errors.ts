// Typed errors, one class per domain. Each carries a string `code`, an optional
// `cause`, and a message a user can act on; the CLI prints `error: <message>`.

export class RecorderError extends Error {
  readonly code: string;
  /** Exit status the CLI uses when this error ends a command. */
  readonly exitCode: number;

  constructor(message: string, options: { code: string; exitCode?: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Bad command-line use. */
export class UsageError extends RecorderError {
  constructor(message: string) {
    super(message, { code: 'ERR_USAGE', exitCode: 2 });
  }
}

/** A feature the machine lacks: lists what was tried. */
export class UnsupportedError extends RecorderError {
  readonly tried: string[];
  constructor(message: string, tried: string[] = [], cause?: unknown) {
    super(tried.length ? `${message} (tried: ${tried.join('; ')})` : message, {
      code: 'ERR_UNSUPPORTED',
      exitCode: 1,
      cause,
    });
    this.tried = tried;
  }
}

/** A file that cannot be read, parsed or written; names the file and the JSON path. */
export class InputError extends RecorderError {
  readonly file: string;
  readonly problems: string[];
  constructor(file: string, problems: string[], cause?: unknown) {
    super(`${file}: ${problems.join('; ')}`, { code: 'ERR_INPUT', exitCode: 2, cause });
    this.file = file;
    this.problems = problems;
  }
}

/** The target command could not be started. Exit codes follow the shell: 127 not found, 126 not executable. */
export class ExecError extends RecorderError {
  readonly errno: number;
  constructor(message: string, errno: number, exitCode: number) {
    super(message, { code: 'ERR_EXEC', exitCode });
    this.errno = errno;
  }
}

/** The kernel or a native part failed while recording. */
export class NativeError extends RecorderError {
  readonly errno: number;
  constructor(message: string, errno = 0, cause?: unknown) {
    super(message, { code: 'ERR_NATIVE', exitCode: 1, cause });
    this.errno = errno;
  }
}

/** libseccomp returned an error; `errnoName` is the negated return as a name. */
export class SeccompError extends RecorderError {
  readonly errnoName: string;
  constructor(message: string, errnoName: string) {
    super(message, { code: 'ERR_SECCOMP', exitCode: 1 });
    this.errnoName = errnoName;
  }
}
