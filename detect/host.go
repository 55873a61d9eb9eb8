package detect

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"armbench/remote"
	"armbench/targets"
)

// TargetFor turns a [user@]HOST[:PORT] argument into a provisional target
// to connect with: only host, user and port are set, the architecture is
// what detection is about to find out. IPv6 addresses take brackets when
// a port follows ([fe80::1]:2222); a bare address with several colons is
// all host.
func TargetFor(spec string) (targets.Target, error) {
	s := strings.TrimSpace(spec)
	var t targets.Target
	if i := strings.LastIndex(s, "@"); i >= 0 {
		t.User, s = s[:i], s[i+1:]
		if t.User == "" {
			return t, fmt.Errorf("%q: empty user before @", spec)
		}
	}
	host, port, portGiven := s, "", false
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return t, fmt.Errorf("%q: missing ] after the IPv6 address", spec)
		}
		host, port = s[1:end], s[end+1:]
		if port != "" {
			p, ok := strings.CutPrefix(port, ":")
			if !ok {
				return t, fmt.Errorf("%q: expected :PORT after ]", spec)
			}
			port, portGiven = p, true
		}
	case strings.Count(s, ":") == 1:
		host, port, _ = strings.Cut(s, ":")
		portGiven = true
	}
	if host == "" {
		return t, fmt.Errorf("%q: no host", spec)
	}
	if strings.Contains(host, ":") {
		// Only an IPv6 address has colons (with an optional %zone).
		addr, _, _ := strings.Cut(host, "%")
		if ip := net.ParseIP(addr); ip == nil || ip.To4() != nil && !strings.Contains(addr, "::") {
			return t, fmt.Errorf("%q: %q is not an IPv6 address; write [ADDRESS]:PORT or HOST:PORT", spec, host)
		}
	}
	if strings.HasPrefix(host, "-") || strings.ContainsFunc(host, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune("/\\'\"`$;&|<>(){}*?!#@[]", r)
	}) {
		return t, fmt.Errorf("%q: %q is not a host name or address", spec, host)
	}
	if strings.HasPrefix(t.User, "-") || strings.ContainsAny(t.User, " \t\n:/@") {
		return t, fmt.Errorf("%q: %q is not a login name", spec, t.User)
	}
	if portGiven {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return t, fmt.Errorf("%q: port %q is not a number from 1 to 65535", spec, port)
		}
		t.Port = n
	}
	t.Host = host
	// The provisional name shows in connection errors ("connect HOST (…)");
	// the real one is chosen later.
	t.Name = host
	t.GOOS = "linux"
	return t, nil
}

// addr is spec as ssh users write it, for messages.
func addr(t targets.Target) string {
	h := t.Host
	if t.Port != 0 {
		h = net.JoinHostPort(h, strconv.Itoa(t.Port))
	}
	if t.User != "" {
		h = t.User + "@" + h
	}
	return h
}

// Host connects to spec with the same host-key rules as a deploy (an
// unknown host fails with *remote.UnknownHostError, a changed key with
// *remote.HostKeyChangedError), asks it about itself and decides its
// target. The error is for failing to ask; a device that answered but is
// no ARM device gets a Result whose Err says so.
func Host(ctx context.Context, spec string, o remote.Options) (Result, error) {
	t, err := TargetFor(spec)
	if err != nil {
		return Result{}, fmt.Errorf("detect: %w", err)
	}
	return Probe(ctx, t, o)
}

// Probe is Host for a provisional target made by TargetFor, after the
// caller has set what a spec cannot carry (identity_file, known_hosts).
// Those connection settings are kept in the detected target.
func Probe(ctx context.Context, t targets.Target, o remote.Options) (Result, error) {
	dev, err := remote.Open(ctx, t, o)
	if err != nil {
		return Result{}, fmt.Errorf("detect: %w", err) // remote's errors name the address
	}
	defer dev.Close()
	f, err := Gather(ctx, dev)
	if err != nil {
		return Result{}, fmt.Errorf("detect %s: %w", addr(t), err)
	}
	r := FromFacts(f)
	if r.Err != nil {
		return r, nil
	}
	r.Target.Host, r.Target.User, r.Target.Port = t.Host, t.User, t.Port
	r.Reasons = append([]Reason{{Key: "host", Value: t.Host, Why: "the host detection connected to"}}, r.Reasons...)
	if t.User != "" {
		r.Reasons = append(r.Reasons, Reason{Key: "user", Value: t.User, Why: "the user detection logged in as"})
	}
	if t.Port != 0 {
		r.Reasons = append(r.Reasons, Reason{Key: "port", Value: strconv.Itoa(t.Port), Why: "the port detection connected to"})
	}
	if t.Identity != "" {
		r.Target.Identity = t.Identity
		r.Reasons = append(r.Reasons, Reason{Key: "identity_file", Value: t.Identity, Why: "the key detection logged in with"})
	}
	if t.KnownHosts != "" {
		r.Target.KnownHosts = t.KnownHosts
		r.Reasons = append(r.Reasons, Reason{Key: "known_hosts", Value: t.KnownHosts, Why: "the known_hosts file that verified the device"})
	}
	return r, nil
}
