// A TCP connection to 127.0.0.1, for tests that speak HTTP byte by byte (no gtest, so the load
// generator in bench/load can use it too).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace micronet_ad::test {

// A connected socket to 127.0.0.1:port, or -1. `send_buffer` > 0 shrinks the kernel's send
// buffer, so that "bytes sent" means bytes the server could have read, give or take that much.
inline int connect_loopback(int port, int send_buffer = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (send_buffer > 0) ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace micronet_ad::test
