#include "util/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "util/error.hpp"
#include "util/file.hpp"

namespace d2a {

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input,
                          size_t max_output) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int in_pipe[2], out_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) != 0) throw_errno("pipe");
    if (pipe2(out_pipe, O_CLOEXEC) != 0) {
        close(in_pipe[0]);
        close(in_pipe[1]);
        throw_errno("pipe");
    }
    pid_t pid = fork();
    if (pid < 0) {
        for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) close(fd);
        throw_errno("starting " + argv[0]);
    }
    if (pid == 0) {
        // The parent may block signals for a watcher thread; the child starts as usual.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        dup2(in_pipe[0], 0);
        dup2(out_pipe[1], 1);
        int devnull = ::open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 2);
        execvp(args[0], args.data());
        _exit(127);
    }
    close(in_pipe[0]);
    close(out_pipe[1]);
    (void)write_to_pipe(in_pipe[1], input);  // one that stops reading: its status says why
    close(in_pipe[1]);
    ProcessResult result;
    char buf[4096];
    for (;;) {
        ssize_t n = read(out_pipe[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (result.output.size() + static_cast<size_t>(n) > max_output) break;
        result.output.append(buf, static_cast<size_t>(n));
    }
    close(out_pipe[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.ran = WIFEXITED(status) && WEXITSTATUS(status) != 127;
    result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

}  // namespace d2a
