#include "config/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>

#include "config/text.hpp"
#include "config/validate.hpp"

namespace tern::config {
namespace {

// An operator with thousands of mistakes needs the first hundred, not a flood.
constexpr std::size_t kMaxErrors = 100;
// Our own input limit: a configuration file is small; this keeps a wrong path (a log file,
// /dev/zero) from being read whole.
constexpr std::streamsize kMaxFileBytes = std::streamsize{4} * 1024 * 1024;

struct Field {
  std::string_view name;
  std::function<void(const YAML::Node&, const std::string&)> parse;
};

std::string_view kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Null: return "nothing (null)";
    case YAML::NodeType::Undefined: return "nothing";
  }
  return "something else";
}

std::string join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return std::string(path) + '.' + std::string(key);
}

std::string index(std::string_view path, std::size_t i) {
  return std::string(path) + '[' + std::to_string(i) + ']';
}

class Loader {
 public:
  explicit Loader(std::string file) { where_.file = std::move(file); }

  LoadResult run(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      add(e.mark, "", "YAML syntax error: " + e.msg);
      return util::unexpected(std::move(errors_));
    }
    try {
      walk_root(root);
    } catch (const YAML::Exception& e) {
      // Not expected from the accessors we use; contained so nothing leaks to the caller.
      add(e.mark, "", "YAML error: " + e.msg);
    }
    // Semantic checks still run after parse errors (all errors in one pass), but a rule about a
    // key whose value already failed to parse would only repeat that failure in other words.
    for (ConfigError& e : validate(cfg_, where_)) {
      if (!related_to_failed(e.key)) push(std::move(e));
    }
    if (!errors_.empty()) {
      // Report in file order, as an editor walks the file; errors with no place go last.
      std::stable_sort(errors_.begin(), errors_.end(),
                       [](const ConfigError& a, const ConfigError& b) {
                         const auto rank = [](const ConfigError& e) {
                           return std::pair{e.line == 0 ? INT_MAX : e.line, e.column};
                         };
                         return rank(a) < rank(b);
                       });
      return util::unexpected(std::move(errors_));
    }
    return std::move(cfg_);
  }

 private:
  // ---- error plumbing ------------------------------------------------------------------
  void push(ConfigError e) {
    if (errors_.size() < kMaxErrors) {
      errors_.push_back(std::move(e));
    } else if (errors_.size() == kMaxErrors) {
      errors_.push_back({where_.file, 0, 0, "", "too many errors; stopping here"});
    }
  }
  void add(const YAML::Mark& m, const std::string& key, std::string message) {
    const bool known = m.line >= 0 && m.column >= 0;
    push({where_.file, known ? m.line + 1 : 0, known ? m.column + 1 : 0, key, std::move(message)});
    if (!key.empty()) failed_.insert(key);
  }
  void add(const YAML::Node& n, const std::string& key, std::string message) {
    add(n.Mark(), key, std::move(message));
  }
  bool related_to_failed(const std::string& key) const {
    for (const std::string& f : failed_) {
      const auto prefix_of = [](const std::string& a, const std::string& b) {
        return b.size() >= a.size() && b.compare(0, a.size(), a) == 0 &&
               (b.size() == a.size() || b[a.size()] == '.' || b[a.size()] == '[');
      };
      if (prefix_of(f, key) || prefix_of(key, f)) return true;
    }
    return false;
  }
  void remember(const YAML::Node& n, const std::string& key) {
    const YAML::Mark m = n.Mark();
    if (m.line >= 0) where_.at[key] = {m.line + 1, m.column + 1};
  }

  // ---- shapes --------------------------------------------------------------------------
  // A map of known keys. Null (a key written with nothing after it) counts as an empty map.
  void map(const YAML::Node& n, const std::string& path, const std::vector<Field>& fields) {
    if (n.IsNull()) return;
    if (!n.IsMap()) {
      add(n, path, "expected a map of keys, got " + std::string(kind(n)));
      return;
    }
    std::set<std::string> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      // Copies: the iterator's pair is a temporary proxy, so references would dangle.
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        add(key, path, "expected a plain key name, got " + std::string(kind(key)));
        continue;
      }
      const std::string& name = key.Scalar();
      const std::string child = join(path, name);
      const Field* f = nullptr;
      for (const Field& cand : fields)
        if (cand.name == name) f = &cand;
      if (f == nullptr) {
        std::vector<std::string_view> names;
        names.reserve(fields.size());
        for (const Field& cand : fields) names.push_back(cand.name);
        std::string msg = "unknown key";
        if (auto best = closest_match(name, names))
          msg += "; did you mean \"" + std::string(*best) + "\"?";
        else
          msg += " (known here: " + list(names) + ")";
        add(key, child, msg);
        continue;
      }
      if (!seen.insert(name).second) {
        add(key, child, "duplicate key");
        continue;
      }
      remember(value, child);
      f->parse(value, child);
    }
  }

  static std::string list(const std::vector<std::string_view>& names) {
    std::string s;
    for (std::string_view n : names) {
      if (!s.empty()) s += ", ";
      s += n;
    }
    return s;
  }

  template <class F>
  void each(const YAML::Node& n, const std::string& path, F&& item) {
    if (!n.IsSequence()) {
      add(n, path, "expected a list, got " + std::string(kind(n)));
      return;
    }
    std::size_t i = 0;
    for (auto it = n.begin(); it != n.end(); ++it, ++i) {
      const YAML::Node element = *it;
      const std::string child = index(path, i);
      remember(element, child);
      item(element, child);
    }
  }

  // A scalar as text, or nullopt after reporting what was expected.
  std::optional<std::string> scalar(const YAML::Node& n, const std::string& path,
                                    std::string_view expected) {
    if (!n.IsScalar()) {
      add(n, path, "expected " + std::string(expected) + ", got " + std::string(kind(n)));
      return std::nullopt;
    }
    return n.Scalar();
  }

  // Runs a text grammar on a scalar and stores the value on success.
  template <class T, class Parse>
  void value(const YAML::Node& n, const std::string& path, std::string_view expected, T& out,
             Parse&& parse) {
    auto s = scalar(n, path, expected);
    if (!s) return;
    auto r = parse(*s);
    if (!r) {
      add(n, path, r.error());
      return;
    }
    out = static_cast<T>(*r);
  }

  template <class T>
  std::function<void(const YAML::Node&, const std::string&)> count(T& out, uint64_t max) {
    return [this, &out, max](const YAML::Node& n, const std::string& p) {
      value(n, p, "a whole number", out,
            [max](const std::string& s) { return parse_count(s, max); });
    };
  }
  std::function<void(const YAML::Node&, const std::string&)> flag(bool& out) {
    return [this, &out](const YAML::Node& n, const std::string& p) {
      value(n, p, "true or false", out, [](const std::string& s) { return parse_bool(s); });
    };
  }
  std::function<void(const YAML::Node&, const std::string&)> millis(Milliseconds& out) {
    return [this, &out](const YAML::Node& n, const std::string& p) {
      value(n, p, "a duration like 10s", out,
            [](const std::string& s) { return parse_duration(s); });
    };
  }
  std::function<void(const YAML::Node&, const std::string&)> seconds(Seconds& out) {
    return [this, &out](const YAML::Node& n, const std::string& p) {
      value(n, p, "a duration like 1h", out, [](const std::string& s) { return parse_seconds(s); });
    };
  }
  std::function<void(const YAML::Node&, const std::string&)> text(std::string& out) {
    return [this, &out](const YAML::Node& n, const std::string& p) {
      if (auto s = scalar(n, p, "a string")) out = *s;
    };
  }
  template <class E>
  std::function<void(const YAML::Node&, const std::string&)> choice(
      E& out, std::vector<std::pair<std::string_view, E>> options) {
    return [this, &out, options](const YAML::Node& n, const std::string& p) {
      std::vector<std::string_view> names;
      names.reserve(options.size());
      for (const auto& o : options) names.push_back(o.first);
      const std::string expected = "one of: " + list(names);
      auto s = scalar(n, p, expected);
      if (!s) return;
      for (const auto& o : options) {
        if (o.first == *s) {
          out = o.second;
          return;
        }
      }
      std::string msg = "expected " + expected + ", got \"" + *s + "\"";
      if (auto best = closest_match(*s, names))
        msg += "; did you mean \"" + std::string(*best) + "\"?";
      add(n, p, msg);
    };
  }

  // An endpoint list entry or value; a bare address takes `default_port`.
  std::optional<net::Endpoint> endpoint(const YAML::Node& n, const std::string& path,
                                        net::Port default_port) {
    const std::string expected =
        "expected an address:port like 127.0.0.1:" + std::to_string(default_port) +
        " or [::1]:" + std::to_string(default_port);
    auto s = scalar(n, path, "an address:port like 127.0.0.1:" + std::to_string(default_port));
    if (!s) return std::nullopt;
    auto e = net::parse_endpoint(*s, default_port);
    if (!e) {
      add(n, path, expected + " (" + net::render_error(*s, e.error()) + ")");
      return std::nullopt;
    }
    return *e;
  }

  // ---- the schema ----------------------------------------------------------------------
  void walk_root(const YAML::Node& root) {
    map(root, "",
        {
            {"server", [this](const YAML::Node& n, const std::string& p) { server(n, p); }},
            {"resolver", [this](const YAML::Node& n, const std::string& p) { resolver(n, p); }},
            {"forward", [this](const YAML::Node& n, const std::string& p) { forward(n, p); }},
            {"cache", [this](const YAML::Node& n, const std::string& p) { cache(n, p); }},
            {"logging", [this](const YAML::Node& n, const std::string& p) { logging(n, p); }},
            {"control",
             [this](const YAML::Node& n, const std::string& p) {
               map(n, p, {{"socket", text(cfg_.control.socket)}});
             }},
            {"metrics", [this](const YAML::Node& n, const std::string& p) { metrics(n, p); }},
        });
  }

  void server(const YAML::Node& node, const std::string& path) {
    ServerOptions& s = cfg_.server;
    map(node, path,
        {
            {"listen",
             [this, &s](const YAML::Node& n, const std::string& p) {
               s.listen.clear();
               each(n, p, [&](const YAML::Node& item, const std::string& ip) {
                 if (auto e = endpoint(item, ip, net::kDnsPort)) s.listen.push_back(*e);
               });
             }},
            {"access-control",
             [this, &s](const YAML::Node& n, const std::string& p) {
               s.access_control.clear();
               each(n, p,
                    [&](const YAML::Node& item, const std::string& ip) { access_rule(item, ip); });
             }},
            {"udp-payload-size", count(s.udp_payload_size, 65535)},
            {"tcp",
             [this, &s](const YAML::Node& n, const std::string& p) {
               map(n, p,
                   {{"idle-timeout", millis(s.tcp.idle_timeout)},
                    {"max-connections", count(s.tcp.max_connections, UINT32_MAX)}});
             }},
            {"user", text(s.user)},
            {"chaos",
             [this, &s](const YAML::Node& n, const std::string& p) {
               map(n, p,
                   {{"version", text(s.chaos.version)}, {"identity", text(s.chaos.identity)}});
             }},
            {"rate-limit",
             [this, &s](const YAML::Node& n, const std::string& p) {
               map(n, p,
                   {{"qps", count(s.rate_limit.qps, UINT32_MAX)},
                    {"slip", count(s.rate_limit.slip, UINT32_MAX)}});
             }},
        });
  }

  void access_rule(const YAML::Node& n, const std::string& path) {
    const std::string shape =
        "expected one of {allow: X}, {refuse: X}, {deny: X} with X a prefix like 10.0.0.0/8, "
        "an address, or a class name";
    if (!n.IsMap() || n.size() != 1) {
      add(n, path,
          shape + ", got " + std::string(kind(n)) +
              (n.IsMap() ? " with " + std::to_string(n.size()) + " keys" : ""));
      return;
    }
    const auto it = n.begin();
    const YAML::Node key = it->first;
    const YAML::Node val = it->second;
    const std::string name = key.IsScalar() ? key.Scalar() : std::string();
    AccessRule rule;
    if (name == "allow")
      rule.action = net::AclAction::Allow;
    else if (name == "refuse")
      rule.action = net::AclAction::Refuse;
    else if (name == "deny")
      rule.action = net::AclAction::Deny;
    else {
      static constexpr std::string_view kActions[] = {"allow", "refuse", "deny"};
      std::string msg = "unknown action \"" + name + "\"; expected allow, refuse or deny";
      if (auto best = closest_match(name, kActions))
        msg += " (did you mean \"" + std::string(*best) + "\"?)";
      add(key, join(path, name), msg);
      return;
    }
    const std::string vpath = join(path, name);
    auto s = scalar(val, vpath, "a prefix, an address or a class name");
    if (!s) return;
    if (s->find('/') != std::string::npos) {
      auto p = net::parse_prefix(*s);
      if (!p) {
        add(val, vpath,
            "expected a prefix like 10.0.0.0/8 (" + net::render_error(*s, p.error()) + ")");
        return;
      }
      rule.subject = *p;
    } else if (auto a = net::parse_address(*s)) {
      rule.subject = net::Prefix::host(*a);
    } else if (auto c = net::parse_address_class(*s)) {
      rule.subject = *c;
    } else {
      static constexpr std::string_view kClasses[] = {"unspecified", "loopback",     "private",
                                                      "shared",      "link-local",   "multicast",
                                                      "broadcast",   "documentation"};
      const bool looks_numeric =
          s->find_first_not_of("0123456789abcdefABCDEF.:%[] ") == std::string::npos;
      std::string msg;
      if (looks_numeric && !s->empty()) {
        msg = "expected an address (" + net::render_error(*s, a.error()) + ")";
      } else {
        msg = "unknown address class \"" + *s + "\"";
        if (auto best = closest_match(*s, kClasses))
          msg += "; did you mean \"" + std::string(*best) + "\"?";
        else
          msg += " (expected a prefix, an address, or one of: " +
                 list({std::begin(kClasses), std::end(kClasses)}) + ")";
      }
      add(val, vpath, msg);
      return;
    }
    cfg_.server.access_control.push_back(rule);
  }

  void resolver(const YAML::Node& node, const std::string& path) {
    ResolverOptions& r = cfg_.resolver;
    map(node, path,
        {
            {"mode", choice(r.mode, {{"recursive", ResolverMode::Recursive},
                                     {"forward", ResolverMode::Forward}})},
            {"root-hints", text(r.root_hints)},
            {"qname-minimisation",
             choice(r.qname_minimisation, {{"strict", QnameMinimisation::Strict},
                                           {"relaxed", QnameMinimisation::Relaxed},
                                           {"off", QnameMinimisation::Off}})},
            {"query-ipv4", flag(r.query_ipv4)},
            {"query-ipv6", flag(r.query_ipv6)},
            {"max-concurrent", count(r.max_concurrent, UINT32_MAX)},
            {"max-waiting-clients", count(r.max_waiting_clients, UINT32_MAX)},
        });
  }

  void forward(const YAML::Node& node, const std::string& path) {
    cfg_.forward.clear();
    if (node.IsNull()) return;
    each(node, path, [&](const YAML::Node& item, const std::string& ip) {
      ForwardZone z;
      bool has_zone = false, has_upstreams = false;
      map(item, ip,
          {
              {"zone",
               [&](const YAML::Node& n, const std::string& p) {
                 has_zone = true;
                 auto s = scalar(n, p, "a zone name like example.com.");
                 if (!s) return;
                 auto name = normalise_zone(*s);
                 if (!name)
                   add(n, p, name.error());
                 else
                   z.zone = *name;
               }},
              {"upstreams",
               [&](const YAML::Node& n, const std::string& p) {
                 has_upstreams = true;
                 each(n, p, [&](const YAML::Node& u, const std::string& up) {
                   if (auto e = endpoint(u, up, net::kDnsPort)) z.upstreams.push_back(*e);
                 });
               }},
          });
      if (item.IsMap() && !has_zone)
        add(item, join(ip, "zone"), "missing; every forward entry names its zone");
      if (item.IsMap() && !has_upstreams)
        add(item, join(ip, "upstreams"), "missing; list at least one upstream");
      cfg_.forward.push_back(std::move(z));
    });
  }

  void cache(const YAML::Node& node, const std::string& path) {
    CacheOptions& c = cfg_.cache;
    map(node, path,
        {
            {"max-size",
             [this, &c](const YAML::Node& n, const std::string& p) {
               value(n, p, "a size like 64MiB", c.max_size,
                     [](const std::string& s) { return parse_size(s); });
             }},
            {"min-ttl", seconds(c.min_ttl)},
            {"max-ttl", seconds(c.max_ttl)},
            {"max-negative-ttl", seconds(c.max_negative_ttl)},
            {"serve-stale",
             [this, &c](const YAML::Node& n, const std::string& p) {
               map(n, p,
                   {{"enabled", flag(c.serve_stale.enabled)},
                    {"max-stale", seconds(c.serve_stale.max_stale)},
                    {"client-timeout", millis(c.serve_stale.client_timeout)}});
             }},
            {"prefetch", flag(c.prefetch)},
            {"persist", flag(c.persist)},
            {"persist-file", text(c.persist_file)},
        });
  }

  void logging(const YAML::Node& node, const std::string& path) {
    LoggingOptions& l = cfg_.logging;
    map(node, path,
        {
            {"level", choice(l.level, {{"trace", LogLevel::Trace},
                                       {"debug", LogLevel::Debug},
                                       {"info", LogLevel::Info},
                                       {"warn", LogLevel::Warn},
                                       {"error", LogLevel::Error},
                                       {"critical", LogLevel::Critical},
                                       {"off", LogLevel::Off}})},
            {"queries", flag(l.queries)},
        });
  }

  void metrics(const YAML::Node& node, const std::string& path) {
    map(node, path,
        {
            {"listen",
             [this](const YAML::Node& n, const std::string& p) {
               if (n.IsScalar() && n.Scalar().empty()) {
                 cfg_.metrics.listen.reset();
                 return;
               }
               if (auto e = endpoint(n, p, kDefaultMetricsPort)) cfg_.metrics.listen = *e;
             }},
        });
  }

  Config cfg_;
  SourceMap where_;
  std::vector<ConfigError> errors_;
  std::set<std::string> failed_;
};

}  // namespace

LoadResult load_string(std::string_view text, const std::string& name) {
  Loader l(name);
  return l.run(text);
}

LoadResult load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return util::unexpected(std::vector<ConfigError>{
        {path, 0, 0, "", std::string("cannot open: ") + std::strerror(err)}});
  }
  std::string text(static_cast<std::size_t>(kMaxFileBytes) + 1, '\0');
  in.read(text.data(), kMaxFileBytes + 1);
  if (in.bad()) {
    return util::unexpected(
        std::vector<ConfigError>{{path, 0, 0, "", "cannot read (is it a directory?)"}});
  }
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (in.gcount() > kMaxFileBytes) {
    return util::unexpected(std::vector<ConfigError>{
        {path, 0, 0, "", "larger than 4 MiB; is this really a configuration file?"}});
  }
  return load_string(text, path);
}

}  // namespace tern::config
