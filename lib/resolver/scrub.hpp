// Scrubbing: the bailiwick rules applied to every upstream reply before the iterator reads it
// (DESIGN.md "Rules that keep it safe"; RFC 2181 §5.4.1 ranking; RFC 5452 §6). A server is
// trusted only for names at or below the zone cut we asked it about, and only for records
// that bear on the question: the CNAME/DNAME chain from the qname, the NS/SOA (and DNSSEC)
// records at or above the name that chain ends at, and address glue for the kept NS names.
// Everything else - out-of-bailiwick data, unsolicited RRsets, a poisoning attempt riding in
// the additional section - is dropped and counted.
// A pure function over a Message: callers: Resolution (every reply), scrub_test.cpp.
// Invariant: after scrub() every remaining record's owner is at or below `zone`.
#pragma once

#include <cstddef>

#include "dns/message.hpp"

namespace tern::resolver {

struct ScrubResult {
  size_t dropped = 0;  // records removed from answer, authority and additional
};

// zone: the zone cut whose servers we queried; qname/qtype: the question as sent.
ScrubResult scrub(dns::Message& reply, const dns::Name& zone, const dns::Name& qname,
                  dns::RRType qtype);

}  // namespace tern::resolver
