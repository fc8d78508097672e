package crawler

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// RefusedError is a connection the guard would not make.
type RefusedError struct {
	Addr   netip.AddrPort
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused to connect to %s: %s", e.Addr, e.Reason)
}

// ErrRefused matches every RefusedError with errors.Is.
var ErrRefused = errors.New("address refused")

// Is makes errors.Is(err, ErrRefused) true for a refusal.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Guard decides which addresses the crawler may connect to. Publisher sites
// are attacker-controlled: a DNS answer or a redirect pointing at
// 127.0.0.1, the cloud metadata address 169.254.169.254 or an office
// network would turn the crawler into a proxy into our own infrastructure
// (SSRF). The zero Guard refuses every non-public address.
type Guard struct {
	// AllowPrivate lets the crawler reach every address
	// (--allow-private-networks).
	AllowPrivate bool
	// Allow lists exact address:port pairs that may be reached even though
	// they are not public: the loopback fixture servers of the tests and the
	// demo. Any other port on the same address stays refused.
	Allow map[netip.AddrPort]bool
}

// Check returns a *RefusedError when ap must not be dialed.
func (g *Guard) Check(ap netip.AddrPort) error {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if g != nil && g.Allow[ap] {
		return nil
	}
	if g != nil && g.AllowPrivate {
		return nil
	}
	if reason := NonPublic(ap.Addr()); reason != "" {
		return &RefusedError{Addr: ap, Reason: reason}
	}
	return nil
}

// Control is the net.Dialer Control hook: it runs after the socket is
// created and before connect, with the literal address being dialed, so a
// refused address never receives a packet.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Reason: fmt.Sprintf("unparsable dial address %q on %s", address, network)}
	}
	return g.Check(ap)
}

// special lists address ranges that are not the public internet, beyond
// what netip's predicates cover.
var special = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this-network (0.0.0.0/8)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "carrier-grade NAT (100.64.0.0/10)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments (192.0.0.0/24)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation (TEST-NET-1)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (198.18.0.0/15)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation (TEST-NET-2)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation (TEST-NET-3)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"},
	{netip.MustParsePrefix("100::/64"), "discard-only (100::/64)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation (2001:db8::/32)"},
	{netip.MustParsePrefix("fec0::/10"), "site-local (fec0::/10)"},
}

// embedsIPv4 are IPv6 ranges whose addresses carry an IPv4 address that a
// gateway may forward to; the embedded address is judged too.
var embedsIPv4 = []struct {
	prefix netip.Prefix
	offset int // byte offset of the IPv4 address in the IPv6 address
}{
	{netip.MustParsePrefix("64:ff9b::/96"), 12},   // NAT64
	{netip.MustParsePrefix("64:ff9b:1::/48"), 12}, // local-use NAT64
	{netip.MustParsePrefix("2002::/16"), 2},       // 6to4
	{netip.MustParsePrefix("::/96"), 12},          // IPv4-compatible (deprecated)
}

// NonPublic returns why a is not a public unicast address, or "" when it is.
func NonPublic(a netip.Addr) string {
	if !a.IsValid() {
		return "invalid address"
	}
	a = a.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	switch {
	case a.IsUnspecified():
		return "unspecified address"
	case a.IsLoopback():
		return "loopback address"
	case a.IsPrivate():
		return "private network address"
	case a.IsLinkLocalUnicast():
		return "link-local address (cloud metadata lives here)"
	case a.IsLinkLocalMulticast(), a.IsInterfaceLocalMulticast(), a.IsMulticast():
		return "multicast address"
	}
	if a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return "broadcast address"
	}
	for _, s := range special {
		if s.prefix.Contains(a) {
			return s.reason
		}
	}
	if a.Is6() {
		b := a.As16()
		for _, e := range embedsIPv4 {
			if e.prefix.Contains(a) {
				v4 := netip.AddrFrom4([4]byte(b[e.offset : e.offset+4]))
				if r := NonPublic(v4); r != "" {
					return fmt.Sprintf("IPv6 %s embedding %s: %s", e.prefix, v4, r)
				}
			}
		}
	}
	return ""
}

// LoopbackOnly is a last-resort dial check for tests and benchmarks: it
// refuses every address outside 127.0.0.0/8 and ::1 before connecting, so
// that a broken Guard fails a test instead of reaching the network.
func LoopbackOnly(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("fail-safe: test dial to non-loopback %q on %s blocked", address, network)
	}
	return nil
}

// chainControl runs the guard, then the optional extra check.
func chainControl(g *Guard, extra func(network, address string, c syscall.RawConn) error) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		if err := g.Control(network, address, c); err != nil {
			return err
		}
		if extra != nil {
			return extra(network, address, c)
		}
		return nil
	}
}
