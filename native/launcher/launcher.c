// agent-launcher: a small long-lived process that starts agent-runtime's job processes on request,
// so that the server never forks itself (docs/operations.md, "Job launcher").
//
// Protocol on stdin: messages of a 4-byte little-endian length and NUL-terminated fields.
//   S req launchFile cwd shell command exitFile stdoutFile stderrFile stdinFifo env...  start a job
//   A pid                                                      the server holds the job's stdin now
//   P req dir                                   prepare a job folder ahead of time (when idle)
// Replies on stdout, one line each:
//   S req pid startTime | D req (launch file exists: started before) | E req message
//   P req (the folder is ready) | E req message (it could not be made; nothing of it is left)
//   X pid code signal   (a job's recorder ended; "-" for the field that does not apply), sent by the
//                       recorder itself just before it exits, and again by the launcher after reaping it
//
// Each job is one recorder process (a fork of this small process, no exec) and the job's shell.
// The recorder leads the job's session and process group, opens the output files, runs
// `shell -c command`, waits for it and writes its status to the exit file. It does not depend on
// this launcher or on the server: either can die (kill -9) and the status is still written.
//
// Prepared folders: creating a file costs 60-200 us on ext4 here, and a job needs six (its folder,
// output files, launch file, stdin FIFO, exit file). A prepared folder holds them all, made while
// no request waits; the server renames one into place as the job's folder, and the start then
// links `launch.ready` to `launch` (as exclusive as O_EXCL) and the recorder renames `exit.ready`
// to `exit` once the status is in it. A folder made without them (no prepared one was left) is
// served the old way: each file is created on the job's path.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#ifdef MSG_NOSIGNAL
#define SEND_NO_SIGNAL MSG_NOSIGNAL
#else
#define SEND_NO_SIGNAL 0 // macOS: SIGPIPE is ignored in the recorder instead
#endif

#define OUTPUT_FILES_FAILED 125
#define MAX_FIELDS 4096

struct holder { pid_t pid; int fd; char *fifo; };

static int wake_pipe[2] = { -1, -1 };
static struct holder *holders;
static size_t holder_count, holder_cap;

static void on_sigchld (int sig) {
  (void)sig;
  int saved = errno;
  ssize_t ignored = write(wake_pipe[1], "c", 1);
  (void)ignored;
  errno = saved;
}

static void ignore_signal (int sig) { (void)sig; }

static void write_all (int fd, const char *text, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, text, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0); // the server is gone: nothing left to do (jobs go on by themselves)
    text += n;
    len -= (size_t)n;
  }
}

static void reply (const char *format, ...) __attribute__((format(printf, 1, 2)));
static void reply (const char *format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  int len = vsnprintf(line, sizeof line, format, args);
  va_end(args);
  if (len < 0) return;
  if ((size_t)len >= sizeof line) len = sizeof line - 1;
  write_all(STDOUT_FILENO, line, (size_t)len);
}

static void release_holder (pid_t pid) {
  for (size_t i = 0; i < holder_count; i++) {
    if (holders[i].pid != pid) continue;
    close(holders[i].fd);
    unlink(holders[i].fifo);
    free(holders[i].fifo);
    holders[i] = holders[--holder_count];
    return;
  }
}

static void add_holder (pid_t pid, int fd, const char *fifo) {
  if (holder_count == holder_cap) {
    holder_cap = holder_cap ? holder_cap * 2 : 16;
    holders = realloc(holders, holder_cap * sizeof *holders);
    if (!holders) abort();
  }
  holders[holder_count++] = (struct holder){ pid, fd, strdup(fifo) };
}

// Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or "-" without /proc.
static void start_time (pid_t pid, char *out, size_t size) {
  snprintf(out, size, "-");
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return;
  text[n] = 0;
  char *p = strrchr(text, ')');
  if (!p) return;
  p += 2; // state is field 3 (index 0 here); start time is field 22 (index 19)
  for (int field = 0; field < 19 && p; field++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  if (!p) return;
  size_t len = strcspn(p, " ");
  if (len == 0 || len >= size) return;
  memcpy(out, p, len);
  out[len] = 0;
}

static void one_line (char *text) {
  for (char *p = text; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
}

// execve, searching the job's PATH when `file` has no slash (like the shell's `exec`); returns errno.
static int exec_in_path (const char *file, char **argv, char **envp) {
  if (strchr(file, '/')) {
    execve(file, argv, envp);
    return errno;
  }
  const char *path = "/usr/local/bin:/usr/bin:/bin";
  for (char **e = envp; *e; e++) if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  int failure = ENOENT;
  char candidate[4096];
  for (const char *dir = path; ; ) {
    size_t len = strcspn(dir, ":");
    int n = snprintf(candidate, sizeof candidate, "%.*s%s%s", (int)len, len ? dir : ".", "/", file);
    if (n > 0 && (size_t)n < sizeof candidate) {
      execve(candidate, argv, envp);
      if (errno != ENOENT && errno != ENOTDIR) failure = errno;
    }
    if (!dir[len]) break;
    dir += len + 1;
  }
  return failure;
}

// The job's recorder: never returns.
static void run_recorder (char **field, int launch_fd, int stdin_fd, int hold_fd, int go_fd, char **envp) {
  const char *cwd = field[3], *shell = field[4], *command = field[5];
  const char *exit_file = field[6], *stdout_file = field[7], *stderr_file = field[8];
  setsid();
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = SIG_DFL;
  // The signals the launcher changed; every other one is at its default already (Node's spawn resets them).
  int changed[] = { SIGCHLD, SIGPIPE, SIGINT, SIGHUP };
  for (size_t i = 0; i < sizeof changed / sizeof changed[0]; i++) sigaction(changed[i], &action, NULL);
  // Why: a SIGTERM or SIGINT to the group must leave the recorder alive to write the status; a
  // handler (unlike SIG_IGN) is reset to the default by exec, so the command is not affected.
  action.sa_handler = ignore_signal;
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
#ifdef __linux__
  prctl(PR_SET_NAME, "agent-job", 0, 0, 0);
#endif
  char pid_text[32];
  int len = snprintf(pid_text, sizeof pid_text, "%d\n", (int)getpid());
  if (launch_fd >= 0) {
    ssize_t ignored = write(launch_fd, pid_text, (size_t)len);
    (void)ignored;
    close(launch_fd);
  }
  // Why: the recorder tells the server itself that the job ended (one process hop less than
  // through the launcher); the launcher's own report after reaping it stays as the backstop.
  int report_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (stdin_fd < 0) stdin_fd = open("/dev/null", O_RDONLY);
  if (stdin_fd != STDIN_FILENO) { dup2(stdin_fd, STDIN_FILENO); close(stdin_fd); }
  int out = open(stdout_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  int err = open(stderr_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (out < 0 || err < 0) _exit(OUTPUT_FILES_FAILED);
  dup2(out, STDOUT_FILENO);
  dup2(err, STDERR_FILENO);
  // Why: other jobs' stdin holders would keep their EOF away while this job runs. Every other fd
  // of the launcher is close-on-exec, so the command inherits only 0, 1 and 2.
  for (size_t i = 0; i < holder_count; i++) close(holders[i].fd);
  if (hold_fd >= 0) close(hold_fd);
  close(wake_pipe[0]);
  close(wake_pipe[1]);
  if (out > STDERR_FILENO) close(out);
  if (err > STDERR_FILENO) close(err);
  // Why: the command starts only once the launcher has sent the pid, so no output of a job can be
  // seen before the server knows the job's pid.
  char go;
  while (read(go_fd, &go, 1) < 0 && errno == EINTR) {}
  close(go_fd);
  int status;
  if (chdir(cwd) != 0) {
    dprintf(STDERR_FILENO, "agent-job: %s: %s\n", cwd, strerror(errno));
    status = 126;
  } else {
    pid_t child = fork();
    if (child == 0) {
      char *argv[] = { (char *)shell, "-c", (char *)command, NULL };
      int failure = exec_in_path(shell, argv, envp);
      dprintf(STDERR_FILENO, "agent-job: %s: %s\n", shell, failure == ENOENT ? "not found" : strerror(failure));
      _exit(failure == ENOENT ? 127 : 126);
    }
    if (child < 0) {
      dprintf(STDERR_FILENO, "agent-job: fork: %s\n", strerror(errno));
      status = 126;
    } else {
      signal(SIGPIPE, SIG_IGN); // the recorder only: the command was forked with the default
      int fd = open("/dev/null", O_RDONLY); // stop holding the job's stdin
      if (fd >= 0) { dup2(fd, STDIN_FILENO); close(fd); }
      int raw;
      while (waitpid(child, &raw, 0) < 0 && errno == EINTR) {}
      status = WIFSIGNALED(raw) ? 128 + WTERMSIG(raw) : WEXITSTATUS(raw);
    }
  }
  // Why the placeholder: filled, then renamed into place, it costs no file creation on the job's path.
  char ready[4096];
  int fd = snprintf(ready, sizeof ready, "%s.ready", exit_file) < (int)sizeof ready ? open(ready, O_WRONLY | O_TRUNC | O_CLOEXEC) : -1;
  if (fd >= 0) {
    dprintf(fd, "%d\n", status);
    close(fd);
    if (rename(ready, exit_file) != 0) fd = -1;
  }
  if (fd < 0 && (fd = open(exit_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) >= 0) {
    dprintf(fd, "%d\n", status);
    close(fd);
  }
  if (report_fd >= 0) {
    char line[64];
    int len = snprintf(line, sizeof line, "X %d %d -\n", (int)getpid(), status & 0xff);
    // Never blocks and never raises SIGPIPE: a server that is gone or not reading misses nothing
    // (the exit file is written, and the launcher reports the end too). Not a socket: skipped.
    ssize_t ignored = send(report_fd, line, (size_t)len, MSG_DONTWAIT | SEND_NO_SIGNAL);
    (void)ignored;
  }
  _exit(status & 0xff);
}

// Requests to prepare folders, served one at a time while no other request waits.
struct prepare { char *req; char *dir; };
static struct prepare *prepares;
static size_t prepare_count, prepare_cap;

static void queue_prepare (const char *req, const char *dir) {
  if (prepare_count == prepare_cap) {
    prepare_cap = prepare_cap ? prepare_cap * 2 : 16;
    prepares = realloc(prepares, prepare_cap * sizeof *prepares);
    if (!prepares) abort();
  }
  prepares[prepare_count++] = (struct prepare){ strdup(req), strdup(dir) };
}

static int make_file (const char *dir, const char *name, mode_t mode) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) { errno = ENAMETOOLONG; return -1; }
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

static void remove_prepared (const char *dir) {
  static const char *names[] = { "stdout", "stderr", "exit.ready", "launch.ready", "stdin" };
  char path[4096];
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) < (int)sizeof path) unlink(path);
  }
  rmdir(dir);
}

// Makes the oldest queued folder: the job's folder with its output files, the exit and launch
// placeholders and the stdin FIFO (modes as the start path would create them).
static void prepare_one (void) {
  struct prepare next = prepares[0];
  memmove(prepares, prepares + 1, --prepare_count * sizeof *prepares);
  char fifo[4096];
  int ok = mkdir(next.dir, 0700) == 0;
  ok = ok && make_file(next.dir, "stdout", 0666) == 0;
  ok = ok && make_file(next.dir, "stderr", 0666) == 0;
  ok = ok && make_file(next.dir, "exit.ready", 0666) == 0;
  ok = ok && make_file(next.dir, "launch.ready", 0600) == 0;
  ok = ok && snprintf(fifo, sizeof fifo, "%s/stdin", next.dir) < (int)sizeof fifo && mkfifo(fifo, 0600) == 0;
  if (ok) {
    reply("P %s\n", next.req);
  } else {
    int saved = errno;
    if (saved != EEXIST) remove_prepared(next.dir);
    reply("E %s prepare %s: %s\n", next.req, next.dir, strerror(saved));
  }
  free(next.req);
  free(next.dir);
}

// The launch file, exclusively: linked from the prepared placeholder, else created. -2 when it exists already.
static int claim_launch_file (const char *launch_file) {
  char ready[4096];
  if (snprintf(ready, sizeof ready, "%s.ready", launch_file) < (int)sizeof ready) {
    if (link(ready, launch_file) == 0) return open(launch_file, O_WRONLY | O_CLOEXEC);
    if (errno == EEXIST) return -2;
  }
  int fd = open(launch_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  return fd < 0 && errno == EEXIST ? -2 : fd;
}

// The read end of the job's stdin FIFO: the prepared one, else a new one (replacing whatever is there).
static int open_stdin_fifo (const char *fifo) {
  int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) return fd;
  if (fd >= 0) close(fd);
  unlink(fifo);
  if (mkfifo(fifo, 0600) != 0) return -1;
  return open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

static void start_job (char **field, int count) {
  if (count < 10) { reply("E %s malformed request\n", count > 1 ? field[1] : "-"); return; }
  const char *req = field[1], *launch_file = field[2], *cwd = field[3], *fifo = field[9];
  struct stat st;
  if (stat(cwd, &st) != 0 || !S_ISDIR(st.st_mode)) {
    reply("E %s working directory %s: %s\n", req, cwd, errno ? strerror(errno) : "not a directory");
    return;
  }
  // Why: created before the fork, exclusively: a request sent again after a launcher died can
  // never start the job twice (the server then reads the pid the recorder wrote here).
  // A job folder that cannot be written is left to the recorder: it fails to open the output
  // files and ends with status 125, which the server reports as that error.
  int launch_fd = claim_launch_file(launch_file);
  if (launch_fd == -2) {
    reply("D %s\n", req);
    return;
  }
  int read_fd = -1, hold_fd = -1;
  if (fifo[0]) {
    read_fd = open_stdin_fifo(fifo);
    // Why: a writer held until the server has opened its own, so the job never reads an early EOF.
    if (read_fd >= 0) hold_fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (hold_fd < 0 && read_fd >= 0) { close(read_fd); read_fd = -1; }
    if (read_fd >= 0) fcntl(read_fd, F_SETFL, fcntl(read_fd, F_GETFL) & ~O_NONBLOCK);
  }
  int go[2] = { -1, -1 };
  if (pipe(go) != 0) {
    reply("E %s pipe: %s\n", req, strerror(errno));
    if (launch_fd >= 0) { close(launch_fd); unlink(launch_file); }
    if (read_fd >= 0) close(read_fd);
    if (hold_fd >= 0) { close(hold_fd); unlink(fifo); }
    return;
  }
  fcntl(go[0], F_SETFD, FD_CLOEXEC);
  fcntl(go[1], F_SETFD, FD_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) {
    close(go[1]);
    run_recorder(field, launch_fd, read_fd, hold_fd, go[0], &field[10]);
  }
  int saved = errno;
  close(go[0]);
  if (launch_fd >= 0) close(launch_fd);
  if (read_fd >= 0) close(read_fd);
  if (pid < 0) {
    close(go[1]);
    if (hold_fd >= 0) { close(hold_fd); unlink(fifo); }
    if (launch_fd >= 0) unlink(launch_file);
    reply("E %s fork: %s\n", req, strerror(saved));
    return;
  }
  if (hold_fd >= 0) add_holder(pid, hold_fd, fifo);
  char started[32];
  start_time(pid, started, sizeof started);
  reply("S %s %d %s\n", req, (int)pid, started);
  close(go[1]); // the recorder may go on
  char ready[4096];
  if (snprintf(ready, sizeof ready, "%s.ready", launch_file) < (int)sizeof ready) unlink(ready);
}

static void handle (char *payload, uint32_t len) {
  static char *field[MAX_FIELDS + 1];
  int count = 0;
  for (uint32_t i = 0; i < len && count < MAX_FIELDS;) {
    field[count++] = payload + i;
    while (i < len && payload[i]) i++;
    i++;
  }
  field[count] = NULL;
  if (count == 0) return;
  for (int i = 1; i < count && i < 10; i++) one_line(field[i]);
  if (strcmp(field[0], "S") == 0) start_job(field, count);
  else if (strcmp(field[0], "A") == 0 && count > 1) release_holder((pid_t)atoi(field[1]));
  else if (strcmp(field[0], "P") == 0 && count > 2) queue_prepare(field[1], field[2]);
}

static void reap (void) {
  int raw;
  pid_t pid;
  while ((pid = waitpid(-1, &raw, WNOHANG)) > 0) {
    release_holder(pid);
    if (WIFSIGNALED(raw)) reply("X %d - %d\n", (int)pid, WTERMSIG(raw));
    else reply("X %d %d -\n", (int)pid, WEXITSTATUS(raw));
  }
}

int main (void) {
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  if (pipe(wake_pipe) != 0) return 1;
  for (int i = 0; i < 2; i++) {
    fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC);
    fcntl(wake_pipe[i], F_SETFL, O_NONBLOCK);
  }
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_sigchld;
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &action, NULL);
  size_t cap = 1 << 16, used = 0;
  char *buffer = malloc(cap);
  if (!buffer) return 1;
  reply("R\n");
  for (;;) {
    struct pollfd fds[2] = { { STDIN_FILENO, POLLIN, 0 }, { wake_pipe[0], POLLIN, 0 } };
    // Why a zero timeout while folders are queued: they are made only when nothing else waits.
    int ready = poll(fds, 2, prepare_count > 0 ? 0 : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (ready == 0) {
      prepare_one();
      continue;
    }
    if (fds[1].revents) {
      char drain[64];
      while (read(wake_pipe[0], drain, sizeof drain) > 0) {}
      reap();
    }
    if (!fds[0].revents) continue;
    if (used == cap) {
      cap *= 2;
      buffer = realloc(buffer, cap);
      if (!buffer) return 1;
    }
    ssize_t n = read(STDIN_FILENO, buffer + used, cap - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0; // the server closed the channel or is gone; jobs go on by themselves
    used += (size_t)n;
    size_t at = 0;
    while (used - at >= 4) {
      unsigned char *h = (unsigned char *)buffer + at;
      uint32_t len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
      if (used - at - 4 < len) break;
      handle(buffer + at + 4, len);
      at += 4 + len;
    }
    memmove(buffer, buffer + at, used - at);
    used -= at;
    reap(); // Why: a SIGCHLD that arrived while handling requests must not wait for the next wake-up.
  }
}
