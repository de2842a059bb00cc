// tools/fault-proxy from a test: started between the client and the test server, steered by
// commands (pass, latency MS, blackhole, reset, refuse, cut N), stopped when the object goes.
#ifndef ASIOPG_TEST_FAULT_PROXY_HPP
#define ASIOPG_TEST_FAULT_PROXY_HPP

#include <asiopg/connect_params.hpp>

#include "server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <istream>
#include <stdexcept>
#include <string>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace asiopg::test {

class fault_proxy {
public:
    /// Starts the proxy in front of the test server (TCP); fails the test if it cannot.
    fault_proxy() {
        const std::string script = locate();
        int in[2], out[2];
        if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("fault_proxy: pipe failed");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], 0);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_addclose(&fa, in[1]);
        posix_spawn_file_actions_addclose(&fa, out[0]);
        std::string target = server_port();
        const char* argv[] = {"python3", script.c_str(), "--target-port", target.c_str(), "--lifetime", "600", nullptr};
        int rc = posix_spawnp(&pid_, "python3", &fa, nullptr, const_cast<char**>(argv), environ);
        posix_spawn_file_actions_destroy(&fa);
        close(in[0]);
        close(out[1]);
        stdin_ = in[1];
        fcntl(stdin_, F_SETFD, FD_CLOEXEC);
        if (rc != 0) {
            close(out[0]);
            throw std::runtime_error("fault_proxy: cannot start python3 " + script);
        }
        // "proxy PORT control PORT", within 10 s.
        std::string line;
        pollfd p{out[0], POLLIN, 0};
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < until) {
            if (poll(&p, 1, 100) <= 0) continue;
            char buf[256];
            ssize_t n = read(out[0], buf, sizeof buf);
            if (n <= 0) break;
            line.append(buf, static_cast<std::size_t>(n));
        }
        close(out[0]);
        if (std::sscanf(line.c_str(), "proxy %hu control %hu", &port_, &control_port_) != 2) {
            stop();
            throw std::runtime_error("fault_proxy: did not start: " + line);
        }
    }
    ~fault_proxy() { stop(); }
    fault_proxy(const fault_proxy&) = delete;
    fault_proxy& operator=(const fault_proxy&) = delete;

    unsigned short port() const noexcept { return port_; }

    /// The test server's parameters, through the proxy.
    connect_params params() const {
        connect_params p = server_params("127.0.0.1");
        p.port = std::to_string(port_);
        p.options.emplace_back("sslmode", "disable"); // what passes through is plain protocol
        return p;
    }
    std::string conninfo() const {
        return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + server_user() +
               " password=" + server_password() + " dbname=" + server_db() + " sslmode=disable";
    }

    /// Sends one command; returns the proxy's answer ("ok …"). Fails the test on "error".
    std::string command(const std::string& cmd) {
        namespace asio = boost::asio;
        asio::io_context ctx;
        asio::ip::tcp::socket s(ctx);
        s.connect({asio::ip::make_address("127.0.0.1"), control_port_});
        asio::write(s, asio::buffer(cmd + "\n"));
        asio::streambuf buf;
        asio::read_until(s, buf, '\n');
        std::istream is(&buf);
        std::string answer;
        std::getline(is, answer);
        BOOST_TEST_REQUIRE(answer.rfind("ok", 0) == 0, "fault proxy: " << cmd << " -> " << answer);
        return answer;
    }

private:
    static std::string locate() {
        if (const char* env = std::getenv("ASIOPG_FAULT_PROXY")) return env;
        namespace fs = std::filesystem;
        for (fs::path dir = fs::current_path(); !dir.empty(); dir = dir.parent_path()) {
            if (fs::exists(dir / "tools" / "fault-proxy")) return (dir / "tools" / "fault-proxy").string();
            if (dir == dir.root_path()) break;
        }
        throw std::runtime_error("fault_proxy: tools/fault-proxy not found above the current directory");
    }

    void stop() noexcept {
        if (stdin_ >= 0) {
            close(stdin_); // end of file on its stdin: it exits
            stdin_ = -1;
        }
        if (pid_ > 0) {
            for (int i = 0; i < 40; ++i) { // 2 s, then kill
                if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
                    pid_ = 0;
                    return;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
            pid_ = 0;
        }
    }

    pid_t pid_ = 0;
    int stdin_ = -1;
    unsigned short port_ = 0;
    unsigned short control_port_ = 0;
};

} // namespace asiopg::test

#endif
