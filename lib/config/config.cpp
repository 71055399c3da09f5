#include "config/config.hpp"

#include "config/error.hpp"

namespace tern::config {

net::AccessList build_access_list(const std::vector<AccessRule>& rules) {
  net::AccessList acl;
  for (const AccessRule& r : rules) {
    if (const auto* p = std::get_if<net::Prefix>(&r.subject)) {
      acl.add(*p, r.action);
    } else {
      // A class counts as its set of prefixes, each competing on its own length.
      for (const net::Prefix& p2 : net::class_prefixes(std::get<net::AddressClass>(r.subject)))
        acl.add(p2, r.action);
    }
  }
  return acl;
}

std::string_view to_string(ResolverMode m) {
  switch (m) {
    case ResolverMode::Recursive: return "recursive";
    case ResolverMode::Forward: return "forward";
  }
  return "?";
}

std::string_view to_string(QnameMinimisation q) {
  switch (q) {
    case QnameMinimisation::Strict: return "strict";
    case QnameMinimisation::Relaxed: return "relaxed";
    case QnameMinimisation::Off: return "off";
  }
  return "?";
}

std::string_view to_string(LogLevel l) {
  switch (l) {
    case LogLevel::Trace: return "trace";
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
    case LogLevel::Critical: return "critical";
    case LogLevel::Off: return "off";
  }
  return "?";
}

std::string_view to_string(net::AclAction a) {
  switch (a) {
    case net::AclAction::Allow: return "allow";
    case net::AclAction::Refuse: return "refuse";
    case net::AclAction::Deny: return "deny";
  }
  return "?";
}

std::string ConfigError::to_string() const {
  std::string s = file.empty() ? std::string("<config>") : file;
  if (line > 0) s += ':' + std::to_string(line) + ':' + std::to_string(column);
  s += ": ";
  if (!key.empty()) s += key + ": ";
  s += message;
  return s;
}

}  // namespace tern::config
