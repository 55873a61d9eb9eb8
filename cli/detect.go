package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"armbench/detect"
	"armbench/remote"
	"armbench/targets"
)

// cmdDetect connects to a device, works out the target it needs and
// prints it as the TOML it would add (or adds it with --add).
func cmdDetect(ctx context.Context, c *cli, args []string) error {
	fset := c.flags("detect")
	add := fset.String("add", "", "append the detected target to the config file under this name")
	trust := fset.Bool("trust", false, "show the device's host key fingerprint and ask before trusting it (known_hosts)")
	identity := fset.String("identity", "", "private key file to log in with (kept as identity_file)")
	knownHosts := fset.String("known-hosts", "", "known_hosts file to verify the device with (kept as known_hosts)")
	positional, err := parseInterleaved(fset, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return usagef("detect needs exactly one device: armbench detect [user@]HOST[:PORT] [--add NAME] [--trust] [--json]")
	}
	spec := positional[0]
	t, err := detect.TargetFor(spec)
	if err != nil {
		return &usageError{"detect: " + err.Error()}
	}
	t.Identity, t.KnownHosts = *identity, *knownHosts

	// Check the name and the file before connecting: a typo should not
	// cost a login.
	var path string
	if *add != "" {
		path = detect.AddPath(c.configPath)
		if err := checkAddable(path, *add); err != nil {
			return err
		}
	}

	o := c.remoteOptions()
	if *trust {
		o.ConfirmHostKey = func(k remote.HostKey) bool { return c.confirmHostKey(k) }
		k, err := remote.Trust(ctx, t, o)
		if err != nil {
			return fmt.Errorf("detect %s: %w", spec, err)
		}
		if k.Added {
			fmt.Fprintf(c.stderr, "armbench: added %s %s for %s to %s\n", k.KeyType, k.Fingerprint, k.Host, k.File)
		}
	}

	r, err := detect.Probe(ctx, t, o)
	if err != nil {
		var unknown *remote.UnknownHostError
		if errors.As(err, &unknown) {
			// `armbench trust` wants a target from the config, which a
			// device being detected does not have yet.
			return fmt.Errorf("%w\nto check the fingerprint and accept it, run: armbench detect --trust %s", err, spec)
		}
		return withHint(err) // a changed key gets OpenSSH's warning, as in deploy
	}
	if *add != "" {
		r.Target.Name = *add
	}

	block := ""
	if r.OK() {
		block = detect.TOML(r.Target, r.Reasons)
	}
	added := ""
	if r.OK() && *add != "" {
		if err := detect.AppendTarget(path, r.Target, r.Reasons...); err != nil {
			if errors.Is(err, detect.ErrDuplicateName) {
				return &usageError{err.Error()}
			}
			return err
		}
		added = path
	}

	if c.json {
		c.printJSON(detectJSON(spec, r, block, added))
	} else {
		c.printDetect(spec, r, block, added)
	}
	if !r.OK() {
		return fmt.Errorf("detect %s: %w", spec, r.Err)
	}
	return nil
}

// parseInterleaved lets flags follow the positional argument, as in
// `armbench detect pi@host --add pi4`; the flag package stops at the
// first non-flag.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// checkAddable fails early when name is taken or the file is unreadable.
func checkAddable(path, name string) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("detect --add: %w", err)
	}
	cfg, err := targets.Parse(path, data)
	if err != nil {
		// A file with comments but no target yet is fine to add to;
		// AppendTarget validates the result and reports real errors.
		return nil
	}
	if t, ok := cfg.Lookup(name); ok {
		return usagef("detect --add %s: %s already has a target named %q; choose another name", name, t.Pos, name)
	}
	return nil
}

// confirmHostKey shows a device's key as ssh does and asks y/N on stdin.
func (c *cli) confirmHostKey(k remote.HostKey) bool {
	fmt.Fprintf(c.stderr, "The authenticity of host %s can't be established.\n%s key fingerprint is %s.\nTrust it and add it to %s? [y/N] ",
		k.Host, k.KeyType, k.Fingerprint, k.File)
	line, _ := bufio.NewReader(c.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

func (c *cli) printDetect(spec string, r detect.Result, block, added string) {
	w := c.stdout
	if !r.OK() {
		// The error itself goes to stderr (once, by finish); stdout says
		// what the device is.
		for _, x := range r.Reasons {
			fmt.Fprintf(w, "%s: %s\n", spec, x)
		}
		return
	}
	board := r.Board
	if board == "" {
		board = r.Target.Description
	}
	fmt.Fprintf(w, "# %s is a %s: %s\n", spec, board, r.Target.Arch())
	fmt.Fprint(w, block)
	switch {
	case added != "":
		fmt.Fprintf(w, "\nadded target %q to %s\n", r.Target.Name, added)
	default:
		fmt.Fprintf(w, "\n# add it with: armbench detect %s --add %s\n", spec, r.Target.Name)
	}
}

type detectOut struct {
	Spec    string          `json:"spec"`
	OK      bool            `json:"ok"`
	Board   string          `json:"board,omitempty"`
	Target  *jsonTarget     `json:"target,omitempty"`
	Reasons []detect.Reason `json:"reasons"`
	TOML    string          `json:"toml,omitempty"`
	Added   string          `json:"added_to,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// jsonTarget is a target as every --json command prints it (targets,
// detect), so scripts read one shape. Fields a detected target does not
// have yet (defined_at) are left out rather than printed empty.
type jsonTarget struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Host        string   `json:"host"`
	User        string   `json:"user,omitempty"`
	Port        int      `json:"port,omitempty"`
	GOOS        string   `json:"goos"`
	GOARCH      string   `json:"goarch"`
	GOARM       string   `json:"goarm,omitempty"`
	GOARM64     string   `json:"goarm64,omitempty"`
	CPU         string   `json:"cpu,omitempty"`
	Cores       int      `json:"cores,omitempty"`
	Memory      int64    `json:"memory_bytes,omitempty"`
	MemoryText  string   `json:"memory,omitempty"`
	DeployDir   string   `json:"deploy_dir,omitempty"`
	Runner      string   `json:"runner,omitempty"`
	CC          string   `json:"cc,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Defined     string   `json:"defined_at,omitempty"`
}

func newJSONTarget(t targets.Target) jsonTarget {
	return jsonTarget{
		Name: t.Name, Description: t.Description, Host: t.Host, User: t.User, Port: t.Port,
		GOOS: t.GOOS, GOARCH: t.GOARCH, GOARM: t.GOARM, GOARM64: t.GOARM64,
		CPU: t.CPU, Cores: t.Cores, Memory: t.Memory, MemoryText: t.MemoryText,
		DeployDir: t.DeployDir, Runner: t.Runner, CC: t.CC, Tags: t.Tags, Defined: t.Pos.String(),
	}
}

func detectJSON(spec string, r detect.Result, block, added string) detectOut {
	out := detectOut{Spec: spec, OK: r.OK(), Board: r.Board, Reasons: r.Reasons, TOML: block, Added: added, Error: errString(r.Err)}
	if out.Reasons == nil {
		out.Reasons = []detect.Reason{}
	}
	if r.OK() {
		t := newJSONTarget(r.Target)
		out.Target = &t
	}
	return out
}
