package crawler

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestNonPublic(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want string // substring of the reason; "" means public
	}{
		{"127.0.0.1", "loopback"},
		{"127.8.9.10", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.0.0.5", "private"},
		{"172.16.3.4", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"fd00::1", "private"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"0.1.2.3", "this-network"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"100.127.255.254", "carrier-grade NAT"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"255.255.255.255", "broadcast"},
		{"240.1.2.3", "reserved"},
		{"192.0.2.10", "documentation"},
		{"198.18.0.1", "benchmarking"},
		{"64:ff9b::a9fe:a9fe", "embedding 169.254.169.254"},
		{"2002:7f00:1::", "embedding 127.0.0.1"},
		{"::127.0.0.1", "loopback"},
		{"fec0::1", "site-local"},
		{"8.8.8.8", ""},
		{"93.184.216.34", ""},
		{"100.128.0.1", ""},
		{"172.32.0.1", ""},
		{"2606:4700::1111", ""},
		{"64:ff9b::808:808", ""},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			got := NonPublic(netip.MustParseAddr(tc.addr))
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("NonPublic(%s) = %q, want %q", tc.addr, got, tc.want)
			}
		})
	}
}

// The guard decides in the dialer's Control hook, which runs before
// connect: these calls never open a connection.
func TestGuardControl(t *testing.T) {
	fixture := netip.MustParseAddrPort("127.0.0.1:8080")
	g := &Guard{Allow: map[netip.AddrPort]bool{fixture: true}}
	for _, tc := range []struct {
		name, addr string
		refused    bool
	}{
		{"allow-listed fixture listener", "127.0.0.1:8080", false},
		{"same address, other port", "127.0.0.1:8081", true},
		{"mapped form of the fixture", "[::ffff:127.0.0.1]:8080", false},
		{"metadata", "169.254.169.254:80", true},
		{"private", "10.0.0.5:443", true},
		{"loopback v6", "[::1]:8080", true},
		{"public", "93.184.216.34:443", false},
		{"garbage", "not-an-address", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := g.Control("tcp4", tc.addr, nil)
			if got := errors.Is(err, ErrRefused); got != tc.refused {
				t.Errorf("Control(%s) = %v, refused want %v", tc.addr, err, tc.refused)
			}
		})
	}
	open := &Guard{AllowPrivate: true}
	if err := open.Control("tcp", "10.0.0.5:80", nil); err != nil {
		t.Errorf("--allow-private-networks still refuses: %v", err)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:53": true, "[::1]:80": true, "10.255.255.53:53": false, "169.254.169.254:80": false, "8.8.8.8:53": false} {
		if err := LoopbackOnly("udp", addr, nil); (err == nil) != ok {
			t.Errorf("LoopbackOnly(%s) = %v, want ok=%v", addr, err, ok)
		}
	}
}
