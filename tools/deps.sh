# Sourced by tools/run and tools/test: installs the Debian packages tern needs, once.
# Daemons that apt installs (nsd, knot, unbound) must not start themselves: if the machine has
# no policy-rc.d we put one in place for the duration of the install and remove it after.
tern_install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "tern: missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    return 1
  fi
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  echo "tern: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null || { echo "tern: apt-get update failed" >&2; return 1; }
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  local rc=$?
  [ $made_policy -eq 1 ] && rm -f /usr/sbin/policy-rc.d
  return $rc
}

TERN_BUILD_PACKAGES=(g++ cmake ninja-build pkg-config libuv1-dev libc-ares-dev libspdlog-dev
  libyaml-cpp-dev catch2 libsystemd-dev)
TERN_TEST_PACKAGES=(clang libclang-rt-14-dev libbenchmark-dev python3 dnsutils knot-dnsutils nsd
  knot unbound dnsperf iproute2 util-linux procps prometheus valgrind clang-tidy)
