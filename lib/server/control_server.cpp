#include "server/control_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>

#include "server/control_json.hpp"

namespace tern::server {

struct ControlServer::Conn {
  ControlServer* owner = nullptr;
  uv_pipe_t pipe{};
  uv_timer_t timer{};
  std::string pending;  // bytes after the last complete line
  size_t queued = 0;    // response bytes handed to uv_write and not yet written
  bool closing = false;
  bool close_after_writes = false;
  int writes_in_flight = 0;
  int open_handles = 0;
};

struct ControlServer::Write {
  uv_write_t req{};
  Conn* conn = nullptr;
  std::string data;
};

std::string control_ok(std::string_view result_json) {
  std::string r = "{\"ok\":true,\"result\":";
  r.append(result_json.empty() ? std::string_view("null") : result_json);
  r.push_back('}');
  return r;
}

std::string control_error(std::string_view message) {
  std::string r = "{\"ok\":false,\"error\":";
  append_json_string(r, message);
  r.push_back('}');
  return r;
}

util::Expected<std::vector<std::string>, std::string> split_command_line(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    std::string word;
    if (line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\') {
          if (i >= line.size()) break;
          char e = line[i++];
          if (e != '"' && e != '\\') return util::unexpected(std::string("bad escape in quoted word"));
          c = e;
        }
        word.push_back(c);
      }
      if (!closed) return util::unexpected(std::string("unterminated quoted word"));
      if (i < line.size() && line[i] != ' ' && line[i] != '\t')
        return util::unexpected(std::string("a quoted word must end at a space"));
    } else {
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
        if (line[i] == '"') return util::unexpected(std::string("quote inside a word"));
        word.push_back(line[i++]);
      }
    }
    words.push_back(std::move(word));
  }
  return words;
}

ControlServer::ControlServer(uv_loop_t* loop, ControlOptions opts)
    : loop_(loop), opts_(std::move(opts)) {
  add_command("help", "help", [this](const CommandArgs&) -> CommandResult {
    JsonWriter w;
    w.begin_object().key("commands").begin_array();
    for (const auto& [name, cmd] : commands_)
      w.begin_object().key("name").value(name).key("usage").value(cmd.usage).end_object();
    w.end_array().end_object();
    return w.take();
  });
}

ControlServer::~ControlServer() {
  // close() must have completed: freeing open libuv handles would corrupt the loop.
  if (listener_open_ || !conns_.empty()) std::abort();
}

void ControlServer::add_command(std::string name, std::string usage, CommandHandler handler) {
  commands_[std::move(name)] = Command{std::move(usage), std::move(handler)};
}

std::string ControlServer::run(const std::string& cmd, const CommandArgs& args) {
  auto it = commands_.find(cmd);
  if (it == commands_.end()) return control_error("unknown command '" + cmd + "' (try help)");
  try {
    CommandResult r = it->second.handler(args);
    if (!r) return control_error(r.error());
    return control_ok(*r);
  } catch (const std::exception& e) {
    return control_error(cmd + " failed: " + e.what());
  } catch (...) {
    return control_error(cmd + " failed");
  }
}

std::string ControlServer::execute(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  if (line.empty()) return {};
  if (line.front() == '{') {
    auto v = parse_json(line);
    if (!v) return control_error(std::string("bad request: ") + to_string(v.error()));
    const JsonValue* cmd = v->find("cmd");
    if (!cmd || !cmd->is_string()) return control_error("bad request: no \"cmd\" string");
    CommandArgs args;
    if (const JsonValue* a = v->find("args")) {
      if (!a->is_array()) return control_error("bad request: \"args\" must be an array of strings");
      for (const JsonValue& item : a->items) {
        if (!item.is_string()) return control_error("bad request: \"args\" must be an array of strings");
        args.push_back(item.text);
      }
    }
    return run(cmd->text, args);
  }
  auto words = split_command_line(line);
  if (!words) return control_error("bad request: " + words.error());
  CommandArgs args(words->begin() + 1, words->end());
  return run(words->front(), args);
}

namespace {

// Is someone accepting connections on this unix socket path?
bool socket_is_live(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, path.data(), path.size());
  bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0;
  ::close(fd);
  return live;
}

}  // namespace

util::Expected<void, std::string> ControlServer::start() {
  const std::string& path = opts_.path;
  sockaddr_un probe{};
  if (path.empty() || path.size() >= sizeof(probe.sun_path))
    return util::unexpected("control socket path '" + path + "' is empty or too long");

  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return util::unexpected("control socket " + path + " exists and is not a socket");
    if (socket_is_live(path))
      return util::unexpected("control socket " + path +
                              " is in use by another process (is ternd already running?)");
    if (::unlink(path.c_str()) != 0)
      return util::unexpected("cannot remove stale control socket " + path + ": " +
                              std::strerror(errno));
  }
  auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0755) == 0) {
      // Ours: hand it to the user we will run as, so the socket can be removed at stop.
      if ((opts_.owner || opts_.group) &&
          ::chown(dir.c_str(), opts_.owner ? *opts_.owner : static_cast<uid_t>(-1),
                  opts_.group ? *opts_.group : static_cast<gid_t>(-1)) != 0)
        return util::unexpected("cannot chown " + dir + ": " + std::strerror(errno));
    } else if (errno != EEXIST) {
      return util::unexpected("cannot create directory " + dir + " for the control socket: " +
                              std::strerror(errno));
    }
  }

  int rc = uv_pipe_init(loop_, &listener_, 0);
  if (rc != 0) return util::unexpected(std::string("control socket: ") + uv_strerror(rc));
  listener_.data = this;
  listener_open_ = true;
  // Create the socket with its final mode: no moment where it is wider open than asked.
  mode_t old = ::umask(static_cast<mode_t>(~opts_.mode & 0777));
  rc = uv_pipe_bind(&listener_, path.c_str());
  ::umask(old);
  std::string error;
  if (rc != 0) {
    error = "cannot create control socket " + path + ": " + uv_strerror(rc);
  } else {
    bound_ = true;
    if (::chmod(path.c_str(), static_cast<mode_t>(opts_.mode)) != 0)
      error = "cannot chmod control socket " + path + ": " + std::strerror(errno);
    else if ((opts_.owner || opts_.group) &&
             ::chown(path.c_str(), opts_.owner ? *opts_.owner : static_cast<uid_t>(-1),
                     opts_.group ? *opts_.group : static_cast<gid_t>(-1)) != 0)
      error = "cannot chown control socket " + path + ": " + std::strerror(errno);
    else if ((rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 16, on_connection)) != 0)
      error = "cannot listen on control socket " + path + ": " + uv_strerror(rc);
  }
  if (!error.empty()) {
    close(nullptr);
    return util::unexpected(error);
  }
  return {};
}

void ControlServer::on_idle(uv_timer_t* t) noexcept {
  auto* c = static_cast<Conn*>(t->data);
  c->owner->finish(c);
}

void ControlServer::on_connection(uv_stream_t* server, int status) noexcept {
  auto* self = static_cast<ControlServer*>(server->data);
  if (status != 0 || self->closing_) return;
  // No exception may leave this callback: out of memory leaves the connection in the backlog.
  auto* c = new (std::nothrow) Conn;
  if (c == nullptr) return;
  c->owner = self;
  if (uv_pipe_init(self->loop_, &c->pipe, 0) != 0) {
    delete c;
    return;
  }
  c->pipe.data = c;
  c->open_handles = 1;
  self->conns_.insert(c);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->pipe)) != 0) {
    self->finish(c);
    return;
  }
  uv_timer_init(self->loop_, &c->timer);
  c->timer.data = c;
  c->open_handles = 2;
  if (self->conns_.size() > self->opts_.max_connections) {
    c->close_after_writes = true;
    self->queue(c, control_error("too many control connections"));
    return;
  }
  uv_timer_start(&c->timer, on_idle, self->opts_.idle_timeout_ms, 0);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->pipe),
      [](uv_handle_t*, size_t, uv_buf_t* buf) noexcept {
        static char scratch[4096];
        *buf = uv_buf_init(scratch, sizeof scratch);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
        auto* cc = static_cast<Conn*>(s->data);
        cc->owner->on_read(cc, nread, buf);
      });
}

void ControlServer::on_read(Conn* c, ssize_t nread, const uv_buf_t* buf) {
  if (c->closing || c->close_after_writes) return;
  if (nread < 0) {  // EOF or error: answer what was asked, then close
    c->close_after_writes = true;
    if (c->writes_in_flight == 0) finish(c);
    return;
  }
  uv_timer_start(&c->timer, on_idle, opts_.idle_timeout_ms, 0);  // restart: not idle
  std::string_view data(buf->base, static_cast<size_t>(nread));
  while (!data.empty()) {
    size_t nl = data.find('\n');
    size_t take = nl == std::string_view::npos ? data.size() : nl;
    if (c->pending.size() + take > opts_.max_line) {
      c->close_after_writes = true;
      uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->pipe));
      queue(c, control_error("request line longer than " + std::to_string(opts_.max_line) +
                             " bytes"));
      return;
    }
    c->pending.append(data.substr(0, take));
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
    std::string line = std::move(c->pending);
    c->pending.clear();
    std::string response;
    try {
      response = execute(line);
    } catch (...) {  // allocation failure building a response: refuse, never unwind into libuv
      response = control_error("internal error");
    }
    if (!response.empty()) queue(c, std::move(response));
    if (c->closing || c->close_after_writes) return;
  }
}

void ControlServer::queue(Conn* c, std::string line) {
  if (c->closing) return;
  line.push_back('\n');
  if (c->queued + line.size() > opts_.max_queued_bytes) {  // the client does not read
    finish(c);
    return;
  }
  auto* w = new Write;
  w->conn = c;
  w->data = std::move(line);
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&c->pipe), &buf, 1,
                    [](uv_write_t* req, int status) noexcept {
                      std::unique_ptr<Write> done(static_cast<Write*>(req->data));
                      Conn* cc = done->conn;
                      --cc->writes_in_flight;
                      cc->queued -= done->data.size();
                      if (status != 0 || (cc->close_after_writes && cc->writes_in_flight == 0))
                        cc->owner->finish(cc);
                    });
  if (rc != 0) {
    delete w;
    finish(c);
    return;
  }
  ++c->writes_in_flight;
  c->queued += w->data.size();
}

void ControlServer::finish(Conn* c) {
  if (c->closing) return;
  c->closing = true;
  auto on_close = [](uv_handle_t* h) noexcept {
    auto* cc = static_cast<Conn*>(h->data);
    if (--cc->open_handles == 0) cc->owner->conn_closed(cc);
  };
  if (c->open_handles == 2) uv_close(reinterpret_cast<uv_handle_t*>(&c->timer), on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&c->pipe), on_close);
}

void ControlServer::conn_closed(Conn* c) {
  conns_.erase(c);
  delete c;
  maybe_done();
}

void ControlServer::close(std::function<void()> done) {
  on_closed_ = std::move(done);
  closing_ = true;
  if (listener_open_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&listener_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&listener_), [](uv_handle_t* h) noexcept {
      auto* self = static_cast<ControlServer*>(h->data);
      self->listener_open_ = false;
      self->maybe_done();
    });
  }
  if (bound_) {
    ::unlink(opts_.path.c_str());
    bound_ = false;
  }
  std::vector<Conn*> open(conns_.begin(), conns_.end());
  for (Conn* c : open) finish(c);
  maybe_done();
}

void ControlServer::maybe_done() {
  if (!closing_ || listener_open_ || !conns_.empty()) return;
  if (!on_closed_) return;
  auto done = std::move(on_closed_);
  on_closed_ = nullptr;
  done();
}

}  // namespace tern::server
