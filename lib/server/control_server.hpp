// ControlServer: ternd's control socket (`control.socket`, default /run/tern/control.sock), the
// channel ternctl speaks. A unix stream socket on the loop, mode 0660 so root and the tern
// group may use it, nobody else.
//
// Protocol (one request per line, one response line per request, any number per connection):
//   request   a text line of words:          flush example.com subtree
//             words may be double-quoted:    cache dump "/var/lib/tern/my cache.dump"
//             or a JSON object:              {"cmd":"flush","args":["example.com","subtree"]}
//   response  one JSON object per line:      {"ok":true,"result":<handler's JSON value>}
//                                            {"ok":false,"error":"unknown command 'x' (try help)"}
// Blank lines are ignored. `help` is built in and lists the registered commands.
//
// Callers: the daemon registers the commands (status, stats, reload, flush, cache, lookup,
// log-level) with add_command() and start()s the server after loading the config.
// Invariant: every byte from a client is untrusted: lines are bounded (max_line), connections
// are capped, idle ones time out, queued responses are bounded, and a handler that throws
// becomes an error response — nothing a client sends can crash ternd or grow memory unbounded.
#pragma once

#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "util/expected.hpp"

namespace tern::server {

struct ControlOptions {
  std::string path = "/run/tern/control.sock";  // control.socket
  uint32_t mode = 0660;
  std::optional<uid_t> owner;  // chown the socket, and its directory when we create it
                               // (started as root, dropping to server.user)
  std::optional<gid_t> group;
  size_t max_line = 4096;          // longest request line
  size_t max_connections = 16;     // ternctl opens one; many at once is a runaway script
  uint64_t idle_timeout_ms = 60'000;
  size_t max_queued_bytes = 4u << 20;  // responses not yet read by the client
};

using CommandArgs = std::vector<std::string>;
// A handler returns a JSON value (its text) or an error message for the operator.
using CommandResult = util::Expected<std::string, std::string>;
using CommandHandler = std::function<CommandResult(const CommandArgs& args)>;

// Splits a text request line into words (double quotes group, \" and \\ escape inside them).
util::Expected<std::vector<std::string>, std::string> split_command_line(std::string_view line);

class ControlServer {
 public:
  ControlServer(uv_loop_t* loop, ControlOptions opts);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // usage: one line for `help`, e.g. "flush [NAME [subtree]]". Replaces a same-named command.
  void add_command(std::string name, std::string usage, CommandHandler handler);

  // Creates the socket: a stale socket file (nobody listening) is replaced; a live one means
  // another ternd and is an error; the parent directory is created (0755) when missing.
  util::Expected<void, std::string> start();
  // Stops listening, closes every connection, removes the socket file; done runs when every
  // handle is closed.
  void close(std::function<void()> done);

  // Runs one request line and returns the response line (no newline); what a connection does
  // per line, exposed so the protocol can be tested without a socket.
  std::string execute(std::string_view line);

  const std::string& path() const { return opts_.path; }
  size_t connections() const { return conns_.size(); }

 private:
  struct Conn;
  struct Write;
  struct Command {
    std::string usage;
    CommandHandler handler;
  };
  static void on_connection(uv_stream_t* server, int status) noexcept;
  static void on_idle(uv_timer_t* t) noexcept;
  void on_read(Conn* c, ssize_t nread, const uv_buf_t* buf);
  void queue(Conn* c, std::string line);
  void finish(Conn* c);
  void conn_closed(Conn* c);
  void maybe_done();
  std::string run(const std::string& cmd, const CommandArgs& args);

  uv_loop_t* loop_;
  ControlOptions opts_;
  std::map<std::string, Command> commands_;
  uv_pipe_t listener_{};
  bool listener_open_ = false;
  bool bound_ = false;
  bool closing_ = false;
  std::unordered_set<Conn*> conns_;
  std::function<void()> on_closed_;
};

// Response builders for handlers and tests.
std::string control_ok(std::string_view result_json);
std::string control_error(std::string_view message);

}  // namespace tern::server
