/* va_child.c - runs a program in a child process that cannot harm us: its
 * own process group, CPU and address-space limits, a wall-clock timeout
 * after which the whole group is killed, and its output captured. */
#define _GNU_SOURCE 1
#include "va_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { VA_OUT_CAP = 1 << 20 };

static double va_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In the child: limits, environment, descriptors, exec.  Never returns. */
static void va_child_exec(const char *const *argv, const char *const *env, double timeout,
                          long mem_mb, int outfd)
{
    setpgid(0, 0);
    struct rlimit cpu = { (rlim_t)timeout + 2, (rlim_t)timeout + 3 };
    setrlimit(RLIMIT_CPU, &cpu);
    if (mem_mb > 0) {
        struct rlimit as = { (rlim_t)mem_mb << 20, (rlim_t)mem_mb << 20 };
        setrlimit(RLIMIT_AS, &as);
    }
    struct rlimit core = { 0, 0 };
    setrlimit(RLIMIT_CORE, &core);
    for (int i = 0; env && env[i]; i++)
        putenv((char *)env[i]);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, 0);
        close(devnull);
    }
    dup2(outfd, 1);
    dup2(outfd, 2);
    if (outfd > 2)
        close(outfd);
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], (char *const *)argv);
    dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int va_spawn(const char *const *argv, const char *const *env, double timeout, long mem_mb,
             va_child *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        va_child_exec(argv, env, timeout, mem_mb, fds[1]);
    }
    setpgid(pid, pid);          /* both sides, whichever runs first */
    close(fds[1]);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    double deadline = va_now() + timeout;
    bool eof = false;
    while (!eof) {
        double left = deadline - va_now();
        if (left <= 0) {
            res->timed_out = true;
            break;
        }
        struct pollfd p = { fds[0], POLLIN, 0 };
        int n = poll(&p, 1, (int)(left * 1000) + 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            continue;
        char chunk[8192];
        ssize_t got = read(fds[0], chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            eof = true;
            break;
        }
        if (buf && len + (size_t)got + 1 > cap && len < VA_OUT_CAP) {
            while (len + (size_t)got + 1 > cap)
                cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                buf = NULL;
            } else
                buf = nb;
        }
        if (buf && len + (size_t)got + 1 <= cap) {
            memcpy(buf + len, chunk, (size_t)got);
            len += (size_t)got;
        }
    }
    close(fds[0]);
    kill(-pid, SIGKILL);        /* the group: a child that lingers or forked */
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!res->timed_out) {
        if (WIFEXITED(status))
            res->exit_code = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
            res->signal = WTERMSIG(status);
    } else
        res->signal = SIGKILL;
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    buf[len] = 0;
    res->out = buf;
    res->outlen = len;
    return 0;
}
