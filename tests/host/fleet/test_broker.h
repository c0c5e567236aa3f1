// A private Mosquitto broker for the fleet tests, started by the test itself on a free loopback
// port with a generated configuration: TLS with a CA, server and client certificates made here
// with openssl, users and their rights in mosquitto's dynamic-security plugin (sensors write only
// their own clip topic and may subscribe to nothing but their own results), persistence in the
// test's temporary directory and an 8 MiB packet limit. Also child processes (workers, the
// simulator) that can be killed.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace micronet_ad::test {

inline void run_or_throw(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + command);
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

// A port nobody listens on now (the kernel's choice for port 0).
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("no free loopback port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

inline std::string current_user() {
  const passwd* pw = ::getpwuid(::geteuid());
  return pw && pw->pw_name ? pw->pw_name : "root";
}

inline bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A child process with its output in files; killed (SIGKILL) when destroyed if still running.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(out, 1);
      ::dup2(err, 2);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      std::_Exit(127);
    }
  }
  ~ChildProcess() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ChildProcess(ChildProcess&& o) noexcept : pid_(o.pid_), status_(o.status_) { o.pid_ = -1; }
  ChildProcess& operator=(ChildProcess&& o) noexcept {
    std::swap(pid_, o.pid_);
    std::swap(status_, o.status_);
    return *this;
  }
  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ <= 0 || status_ >= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return false;
    }
    return true;
  }
  void signal(int sig) {
    if (running()) ::kill(pid_, sig);
  }
  // Exit code (128 + signal when killed), or -1 if still running after `seconds`.
  int wait(double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return running() ? -1 : status_;
  }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Waits until `path` contains `text`.
inline bool wait_for_text(const std::string& path, const std::string& text, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (read_text(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Mosquitto's dynamic-security plugin: /usr/lib/<multiarch>/ on Debian, /usr/[local/]lib/ when
// built from source.
inline std::string dynamic_security_plugin() {
  for (const char* pattern : {"/usr/lib/*/mosquitto_dynamic_security.so", "/usr/lib/mosquitto_dynamic_security.so",
                              "/usr/local/lib/mosquitto_dynamic_security.so"}) {
    glob_t found{};
    const bool any = ::glob(pattern, 0, nullptr, &found) == 0 && found.gl_pathc > 0;
    const std::string path = any ? found.gl_pathv[0] : "";
    ::globfree(&found);
    if (any) return path;
  }
  throw std::runtime_error("mosquitto_dynamic_security.so not found (Debian: package mosquitto)");
}

// The dynamic-security configuration (the JSON file the plugin loads at start) of the fleet's
// users, all with `password`. Mosquitto 2.0.11's plugin has no %u substitution in its ACL topics,
// so each sensor has a role of its own.
class DynsecConfig {
 public:
  // `scratch`: a file name for `mosquitto_ctrl dynsec init`, which derives the password hash.
  DynsecConfig(const std::string& scratch, const std::string& password) : hash_(password_hash(scratch, password)) {
    // Nothing a role does not allow: a SUBSCRIBE outside them is refused (SUBACK 0x87), and a
    // message outside them is neither accepted (PUBACK 0x87) nor delivered.
    config_["defaultACLAccess"] = {
        {"publishClientSend", false}, {"publishClientReceive", false}, {"subscribe", false}, {"unsubscribe", true}};
    config_["clients"] = nlohmann::json::array();
    config_["roles"] = nlohmann::json::array();
  }

  // A user with a role of the same name: `reads` are topic filters it may subscribe to and receive
  // from, `writes` topics it may publish to, `subscribes` filters it may also subscribe to (e.g. a
  // shared subscription, which 2.0.11 checks as the whole "$share/<group>/<filter>": a pattern
  // for the plain filter does not cover it; what it delivers is checked against `reads`).
  void add_user(const std::string& name, const std::vector<std::string>& reads, const std::vector<std::string>& writes,
                const std::vector<std::string>& subscribes = {}) {
    nlohmann::json acls = nlohmann::json::array();
    for (const std::string& filter : reads) {
      acls.push_back(acl("subscribePattern", filter));
      acls.push_back(acl("publishClientReceive", filter));
    }
    for (const std::string& topic : writes) acls.push_back(acl("publishClientSend", topic));
    for (const std::string& filter : subscribes) acls.push_back(acl("subscribePattern", filter));
    config_["roles"].push_back({{"rolename", name}, {"acls", acls}});
    nlohmann::json client = hash_;
    client["username"] = name;
    client["roles"] = nlohmann::json::array({{{"rolename", name}}});
    config_["clients"].push_back(client);
  }
  void write(const std::string& path) const { write_text(path, config_.dump(1, '\t') + "\n"); }

 private:
  static nlohmann::json acl(const char* type, const std::string& topic) {
    return {{"acltype", type}, {"topic", topic}, {"allow", true}};
  }
  // The plugin stores base64(PBKDF2-HMAC-SHA512(password, salt, iterations)) with its salt and
  // iteration count: let mosquitto's own tool make them (for an admin user we drop) rather than
  // re-derive them here.
  static nlohmann::json password_hash(const std::string& scratch, const std::string& password) {
    std::remove(scratch.c_str());
    run_or_throw("mosquitto_ctrl dynsec init " + scratch + " hash-source '" + password + "'");
    const nlohmann::json made = nlohmann::json::parse(read_text(scratch));
    std::remove(scratch.c_str());
    const nlohmann::json& admin = made.at("clients").at(0);
    return {{"password", admin.at("password")}, {"salt", admin.at("salt")}, {"iterations", admin.at("iterations")}};
  }

  nlohmann::json hash_;
  nlohmann::json config_;
};

class TestBroker {
 public:
  static constexpr const char* kPassword = "s3cret-for-tests";

  // Makes certificates, users and their rights, and the configuration in `dir` (created), and
  // starts the broker.
  explicit TestBroker(const std::string& dir) : dir_(dir), port_(free_loopback_port()) {
    run_or_throw("mkdir -p " + dir_ + "/persist");
    make_certificates();
    write_text(dir_ + "/password.txt", std::string(kPassword) + "\n");
    make_users();
    write_text(dir_ + "/mosquitto.conf",
               "per_listener_settings false\n"
               // mosquitto started as root would drop to user mosquitto, which cannot read this
               // test's private directory: stay the user that made it.
               "user " +
                   current_user() +
                   "\n"
                   "listener " +
                   std::to_string(port_) +
                   " 127.0.0.1\n"
                   "cafile " +
                   dir_ +
                   "/ca.crt\n"
                   "certfile " +
                   dir_ +
                   "/server.crt\n"
                   "keyfile " +
                   dir_ +
                   "/server.key\n"
                   "require_certificate true\n"
                   "allow_anonymous false\n"
                   // Users and ACLs: an acl_file would grant a sensor's SUBSCRIBE to `#` (and deliver
                   // only what its read ACL allows); this plugin refuses it.
                   "plugin " +
                   dynamic_security_plugin() +
                   "\n"
                   "plugin_opt_config_file " +
                   dir_ +
                   "/dynsec.json\n"
                   "persistence true\n"
                   "persistence_location " +
                   dir_ +
                   "/persist/\n"
                   "autosave_interval 1\n"
                   "max_queued_messages 1000000\n"
                   // Without it mosquitto's small acknowledgements wait for Nagle + delayed ACK (40 ms)
                   // and a worker, one clip in flight per session, scores 25 clips/s.
                   "set_tcp_nodelay true\n"
                   "max_packet_size 8388608\n"
                   "log_dest file " +
                   dir_ +
                   "/broker.log\n"
                   "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n");
    start();
  }
  ~TestBroker() { stop(); }

  // Starts mosquitto and waits until its port accepts connections (TLS is up then).
  void start() {
    process_ = ChildProcess({MICRONET_AD_MOSQUITTO, "-c", dir_ + "/mosquitto.conf"}, dir_ + "/broker.out",
                            dir_ + "/broker.err");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (!port_accepts(port_)) {
      if (!process_.running() || std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("mosquitto did not start: " + read_text(dir_ + "/broker.err") +
                                 read_text(dir_ + "/broker.log"));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // SIGTERM: mosquitto saves its persistence database and exits.
  void stop() {
    process_.signal(SIGTERM);
    process_.wait(10.0);
  }
  bool running() { return process_.running(); }

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  std::string url() const { return "mqtts://127.0.0.1:" + std::to_string(port_); }
  // The command-line options a client of user `user` connects with.
  std::vector<std::string> client_options(const std::string& user) const {
    return {"--broker",        url(),
            "--cafile",        dir_ + "/ca.crt",
            "--cert",          dir_ + "/client.crt",
            "--key",           dir_ + "/client.key",
            "--username",      user,
            "--password-file", dir_ + "/password.txt"};
  }
  pid_t pid() const { return process_.pid(); }

 private:
  // The fleet's users (docs/fleet.md, Security), all with kPassword.
  void make_users() {
    const std::string root = "micronet-ad/v1/";
    const std::vector<std::string> every_result = {root + "+/score", root + "+/state", root + "+/error"};
    DynsecConfig users(dir_ + "/dynsec-init.json", kPassword);
    // Workers: every clip (through their group's shared subscription), every machine's results,
    // their status topics.
    std::vector<std::string> worker_writes = every_result;
    worker_writes.push_back("micronet-ad/workers/#");
    users.add_user("worker", {root + "+/clip", "micronet-ad/workers/#"}, worker_writes,
                   {"$share/+/" + root + "+/clip"});
    // The fleet simulator speaks for every sensor.
    std::vector<std::string> simulator_reads = every_result;
    simulator_reads.push_back("micronet-ad/workers/#");
    users.add_user("fleet-sim", simulator_reads, {root + "+/clip"});
    // A sensor (user name = machine name): its own clip topic, its own results.
    for (const std::string machine : {"m1", "m2"})
      users.add_user(machine, {root + machine + "/score", root + machine + "/state", root + machine + "/error"},
                     {root + machine + "/clip"});
    users.write(dir_ + "/dynsec.json");
  }

  void make_certificates() {
    const std::string d = dir_;
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    run_or_throw("openssl req -x509" + ec + "-days 2 -subj /CN=micronet-ad-test-ca -keyout " + d + "/ca.key -out " + d +
                 "/ca.crt");
    write_text(d + "/server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    run_or_throw("openssl req" + ec + "-subj /CN=127.0.0.1 -keyout " + d + "/server.key -out " + d + "/server.csr");
    run_or_throw("openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.crt -CAkey " + d +
                 "/ca.key -CAcreateserial -days 2 -extfile " + d + "/server.ext -out " + d + "/server.crt");
    run_or_throw("openssl req" + ec + "-subj /CN=fleet-client -keyout " + d + "/client.key -out " + d + "/client.csr");
    run_or_throw("openssl x509 -req -in " + d + "/client.csr -CA " + d + "/ca.crt -CAkey " + d +
                 "/ca.key -CAcreateserial -days 2 -out " + d + "/client.crt");
  }

  std::string dir_;
  int port_;
  ChildProcess process_;
};

}  // namespace micronet_ad::test
