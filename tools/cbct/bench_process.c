/* Each run of `cbct bench` is its own process, so that a crash or an
 * out-of-memory in one point cannot take down the others. Its output goes
 * to a log file; SIGINT/SIGTERM to the bench are passed on to the run,
 * which is then left without a record (to be run again); a run that dies
 * with the bench (SIGKILL) is stopped by the kernel (PR_SET_PDEATHSIG). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* Polling period of the running child (and of the timeout). */
#define POLL_SECONDS 0.02
/* After SIGTERM, how long a child (mpirun and its ranks) may take to stop. */
#define GRACE_SECONDS 10.0

static volatile sig_atomic_t interrupted_by; /* the signal, 0 when none */
static volatile pid_t running_child;

static void on_signal(int signo)
{
    interrupted_by = signo;
    if (running_child > 0)
        kill(running_child, signo);
}

void bench_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int bench_interrupted(void)
{
    return interrupted_by != 0;
}

static void pause_seconds(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* In the child: output to the log, stop with the parent, exec. */
static void exec_child(char *const *argv, int log_fd, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the bench died before prctl */
        _exit(126);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    close(log_fd);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    execvp(argv[0], argv);
    fprintf(stderr, "cbct bench: error: cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127); /* as shells report a command that cannot be run */
}

cbct_status bench_spawn(char *const *argv, const char *log_path, double timeout_s,
                        bench_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->exit_code = -1;
    bench_iso_time(out->started, sizeof out->started);
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0)
        return cbct_error(CBCT_ERR_IO, "cannot write the run's log '%s': %s", log_path,
                          strerror(errno));
    double t0 = cbct_seconds();
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(log_fd);
        return cbct_error(CBCT_ERR_IO, "cannot start '%s': fork: %s", argv[0], strerror(errno));
    }
    if (pid == 0) {
        /* O_CLOEXEC is on the log; the child needs it as its output. */
        int fd = dup(log_fd);
        exec_child(argv, fd, parent);
    }
    close(log_fd);
    running_child = pid;
    if (interrupted_by) /* a signal that came before running_child was set */
        kill(pid, interrupted_by);
    int status = 0;
    double stop_at = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            break;
        double now = cbct_seconds() - t0;
        if (timeout_s > 0 && now > timeout_s && !out->timed_out) {
            out->timed_out = 1;
            kill(pid, SIGTERM);
            stop_at = now + GRACE_SECONDS;
        }
        if (stop_at > 0 && now > stop_at) {
            kill(pid, SIGKILL);
            stop_at = 0;
        }
        pause_seconds(POLL_SECONDS);
    }
    running_child = 0;
    out->seconds_wall = cbct_seconds() - t0;
    bench_iso_time(out->finished, sizeof out->finished);
    out->interrupted = interrupted_by != 0;
    if (WIFEXITED(status)) {
        out->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        out->signal = WTERMSIG(status);
    }
    return CBCT_OK;
}
