// Package intel holds vigil's threat intelligence: threat lists and trusted lists
// loaded from the files GuardDuty users already have, public feeds, the built-in
// lists, and the lookups the detection engine makes for every record.
//
// # Lists
//
// A List is read from a file (LoadFile), a URL (Fetch) or any reader (Parse), in
// one of GuardDuty's six formats, so that a list a team uploads to GuardDuty
// works in vigil unchanged:
//
//   - TXT: one IPv4/IPv6 address, CIDR, domain or "*.domain" per line, "#"
//     comments (GuardDuty's entity-list TXT);
//   - STIX: STIX 1.x XML, AddressObject (addresses, CIDRs, "##comma##" lists and
//     InclusiveBetween ranges), DomainNameObject, HostnameObject, URIObject hosts;
//   - OTX_CSV: the AlienVault OTX pulse export "Indicator type,Indicator,Description";
//   - FIRE_EYE: the iSIGHT Threat Intelligence CSV (ip/ipAddress, cidr, domain columns);
//   - PROOF_POINT: the ET Intelligence CSV "ip|domain,category,score,…";
//   - ALIEN_VAULT: the reputation format "ip#reliability#risk#activity#…";
//
// and the public feeds users point vigil at directly: the Tor exit list (the
// plain torbulkexitlist is TXT; exit-addresses is TOR_EXIT_ADDRESSES), abuse.ch
// Feodo Tracker and SSLBL (ABUSE_CH_CSV; their .txt forms are TXT) and Spamhaus
// DROP/EDROP (SPAMHAUS_DROP "cidr ; SBLnnn", SPAMHAUS_DROP_JSON lines). A list
// given without a format is recognized by its content (DetectFormat).
//
// Every entry keeps the list's name (GuardDuty's threatListName, which findings
// report), the threat name or category its format gives it, and the file and
// line it came from, so that a finding can say which line of which list fired.
//
// vigil accepts more than GuardDuty where that costs nothing: IPv6 entries and
// addresses, more than one trusted list and more than six threat lists, and
// limits that can be raised per list. Like GuardDuty it refuses to list a bare
// public suffix ("com", "*.co.uk": every domain under it) or 0.0.0.0/0.
//
// # Bad input
//
// A list is a file someone edits by hand or a feed that can change under us.
// A bad line is skipped and reported as a Warning naming file:line and what was
// expected ("lists/threat.txt:7: "10.0.0.300" is not an IP address, CIDR or
// domain"); the lines around it load. A list fails as a whole, with an error
// naming the file, only when it cannot be read in its format at all (STIX that is
// not XML, an HTML error page), when no line at all is good, or when it passes
// its limits: by default GuardDuty's, 250,000 entries for a threat list, 2,000 for
// a trusted list, 35 MB per file (DefaultMaxThreatEntries,
// DefaultMaxTrustedEntries, DefaultMaxBytes; Options.MaxEntries and MaxBytes
// raise them). The limits keep a runaway feed from filling memory.
//
// # Lookups and precedence
//
// A Set indexes all lists in effect. Match finds the threat entry with the
// longest prefix containing an address, MatchDomain the entry for a query name
// or its nearest listed parent domain (case and a trailing dot ignored, as in
// DNS). Trusted and TrustedDomain answer for the trusted lists: as in GuardDuty,
// a trusted entry stops findings, so Match and MatchDomain never return a threat
// entry that a trusted entry covers, and the detection engine checks Trusted
// first for every detection, not only list matches. Check and CheckDomain return
// both sides, to explain a decision.
//
// Lookups allocate nothing and take one binary search over a flattened interval
// table for addresses (see iptable.go) and at most one map probe per label for
// names; memory is proportional to the lists, about 160 bytes per entry with its
// index (BenchmarkLoad).
//
// # Built-in lists
//
// BuiltinLists embeds two lists with their sources (builtin/domains.txt): the
// domains AWS's GuardDuty tester looks up, each mapped to the finding type
// GuardDuty raises for it, so that AWS's own tester triggers vigil as it triggers
// GuardDuty; and about forty public cryptocurrency mining pools →
// CryptoCurrency:EC2/BitcoinTool.B!DNS. Their entries carry their Finding type;
// entries of user lists do not, and raise the detector's .Custom type.
//
// # Reloading
//
// A Loader keeps a Set current: it polls files (size, modification time,
// identity; no file-system notification dependency) and downloads feeds again
// (conditional GET), and swaps in a new Set atomically. Readers call Current,
// one atomic load. A list that fails to reload keeps its previous version in
// effect; the failure is reported through Config.OnEvent and Status. List changes
// are reported too: an attacker who can edit a trusted list can blind detection.
package intel
