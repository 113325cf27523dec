#include "support/smtp_sink.hpp"

#include <csignal>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace dynchat::testing {
namespace {

// A port nobody listens on now (the kernel's choice), for the sink to take.
std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

} // namespace

smtp_sink::smtp_sink() {
  std::random_device rd;
  dir_ = std::filesystem::temp_directory_path() / ("dynchat-smtp-sink-" + std::to_string(rd()));
  std::filesystem::create_directories(dir_);
  port_ = free_port();
  const auto listen = "127.0.0.1:" + std::to_string(port_);
  const auto log = (dir_ / "sink.log").string();
  const auto mailbox = (dir_ / "maildir").string();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    // Debian's interpreter, where python3-aiosmtpd is installed (not a user's own python3).
    ::execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l", listen.c_str(), "-c",
            "aiosmtpd.handlers.Mailbox", mailbox.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  pid_ = pid;
  for (int i = 0; i < 200 && !accepts(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds{50});
  if (!accepts(port_)) throw std::runtime_error("the SMTP sink (python3 -m aiosmtpd) did not start; see " + log);
}

smtp_sink::~smtp_sink() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, WNOHANG);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> smtp_sink::messages() const {
  std::vector<std::string> out;
  for (const char* sub : {"new", "cur"}) {
    const auto d = dir_ / "maildir" / sub;
    std::error_code ec;
    if (!std::filesystem::exists(d, ec)) continue;
    for (const auto& f : std::filesystem::directory_iterator{d, ec}) {
      std::ifstream in{f.path(), std::ios::binary};
      std::stringstream text;
      text << in.rdbuf();
      out.push_back(text.str());
    }
  }
  return out;
}

std::vector<std::string> smtp_sink::wait_for(std::size_t count, std::chrono::milliseconds limit) const {
  const auto until = std::chrono::steady_clock::now() + limit;
  auto got = messages();
  while (got.size() < count && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    got = messages();
  }
  return got;
}

} // namespace dynchat::testing
