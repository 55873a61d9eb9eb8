package cli

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"

	"armbench/image"
	"armbench/internal/atomicfile"
	"armbench/profiles"
)

// imageFlags are the flags of armbench image.
type imageFlags struct {
	target, profile   string
	out, push         string
	insecure          bool
	manifest, repo    string
	name              string
	replicas          int
	maxUnavail, surge int
	parallel          int
}

func (c *cli) imageFlagSet(f *imageFlags) func([]string) error {
	fs := c.flags("image")
	fs.StringVar(&f.target, "target", "", "targets from targets.toml, comma-separated, one per platform (linux/arm/v6, linux/arm/v7, linux/arm64)")
	fs.StringVar(&f.profile, "profile", "default", "the profile whose binaries and runtime settings the image carries")
	fs.StringVar(&f.out, "out", "", "write the index to this OCI layout directory (its ref name is the profile's)")
	fs.StringVar(&f.push, "push", "", "push the index to this reference, REGISTRY/REPOSITORY[:TAG] (credentials as docker login leaves them)")
	fs.BoolVar(&f.insecure, "insecure", false, "talk plain HTTP to the --push registry (loopback and private addresses already do)")
	fs.StringVar(&f.manifest, "manifest", "", "write a Kubernetes Deployment (YAML) for the image to this file")
	fs.StringVar(&f.repo, "image", "", "with --manifest and no --push: the repository you will copy the image to; the manifest names it by digest")
	fs.StringVar(&f.name, "name", "", "the Deployment's and container's name (default: the binary's)")
	fs.IntVar(&f.replicas, "replicas", 1, "the Deployment's replicas")
	fs.IntVar(&f.maxUnavail, "max-unavailable", 1, "pods a rollout may take down at once")
	fs.IntVar(&f.surge, "max-surge", 0, "extra pods a rollout may start (0: small boards have no memory for a second copy)")
	fs.IntVar(&f.parallel, "parallel", 0, "builds at once (default: up to 2, sharing the Go build cache)")
	return func(args []string) error {
		if err := parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usagef("image: unexpected argument %q", fs.Arg(0))
		}
		return f.check()
	}
}

// check catches what the flags alone get wrong, before anything is built.
func (f *imageFlags) check() error {
	switch {
	case f.out == "" && f.push == "":
		return usagef("image: say where the image goes: --out DIR (an OCI layout directory) and/or --push REGISTRY/REPOSITORY[:TAG]")
	case strings.Contains(f.profile, ","):
		return usagef("image: --profile takes one profile, not %q: an image carries one profile's binaries and settings", f.profile)
	case f.repo != "" && f.push != "":
		return usagef("image: --image is for a manifest without --push; with --push the manifest names the pushed repository")
	case f.manifest != "" && f.push == "" && f.repo == "":
		return usagef("image: the manifest names the image by digest in a registry: add --push REGISTRY/REPOSITORY[:TAG], or --image REGISTRY/REPOSITORY if you copy the layout there yourself")
	case f.repo != "" && f.manifest == "":
		return usagef("image: --image only names the image in --manifest; add --manifest FILE")
	}
	return nil
}

// sourceDateEpoch is the images' creation time: $SOURCE_DATE_EPOCH when
// set (reproducible-builds.org), else the zero time, which the image
// package turns into the Unix epoch.
func sourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, usagef("image: SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

func cmdImage(ctx context.Context, c *cli, args []string) error {
	var f imageFlags
	if err := c.imageFlagSet(&f)(args); err != nil {
		return err
	}
	created, err := sourceDateEpoch()
	if err != nil {
		return err
	}
	w, err := c.load()
	if err != nil {
		return err
	}
	plans, err := c.matrixPlans(w, f.target, f.profile, profiles.ModeBinary)
	if err != nil {
		return err
	}
	if err := checkImage(plans, f); err != nil {
		return err
	}
	results := c.buildPlans(ctx, plans, f.parallel)
	for _, r := range results {
		if r.Err != nil || r.Artifact == nil {
			return c.reportBuilds(results)
		}
	}
	emit := c.imageEmit()
	res, err := image.Assemble(ctx, plans, results, image.Options{Name: f.name, Created: created}, emit)
	if err != nil {
		return asUsage(err)
	}
	out := imageResultJSON{Type: "result", OK: true, Digest: res.Digest}
	if err := c.imageOutputs(ctx, plans, res, f, emit, &out); err != nil {
		return asUsage(err)
	}
	for _, b := range res.Images {
		out.Images = append(out.Images, imageJSON{image.PlatformString(b.Platform), b.Target, b.Digest, b.Artifact.SHA256, b.Artifact.Size, b.Env})
	}
	if c.json {
		c.printJSON(out)
	} else if out.Pushed != "" {
		fmt.Fprintln(c.stdout, out.Pushed)
	} else {
		fmt.Fprintln(c.stdout, res.Digest)
	}
	return nil
}

// checkImage turns what would stop the image after the builds into usage
// errors now: platforms that clash, a bad reference, a manifest that
// cannot be derived (a target without memory, say).
func checkImage(plans []profiles.Plan, f imageFlags) error {
	if _, err := image.Check(plans); err != nil {
		return asUsage(err)
	}
	if f.push != "" {
		if _, err := image.ParseRef(f.push, image.PushOptions{Insecure: f.insecure}); err != nil {
			return asUsage(err)
		}
	}
	if f.manifest != "" {
		if err := image.CheckDeployment(plans, f.deployment("")); err != nil {
			return asUsage(err)
		}
	}
	return nil
}

func (f imageFlags) deployment(ref string) image.DeploymentOptions {
	return image.DeploymentOptions{Name: f.name, Image: ref, Replicas: f.replicas, MaxUnavailable: f.maxUnavail, MaxSurge: f.surge}
}

// imageOutputs writes the layout, pushes and writes the manifest, as the
// flags ask, recording each in out.
func (c *cli) imageOutputs(ctx context.Context, plans []profiles.Plan, res *image.Result, f imageFlags, emit func(image.Event), out *imageResultJSON) error {
	if f.out != "" {
		refName := plans[0].Profile.Name
		if err := image.WriteLayout(ctx, f.out, refName, res, emit); err != nil {
			return err
		}
		out.Layout, out.RefName = f.out, refName
	}
	ref := ""
	if f.push != "" {
		pushed, err := image.Push(ctx, f.push, res, image.PushOptions{Insecure: f.insecure}, emit)
		if err != nil {
			return err
		}
		out.Pushed, ref = pushed, pushed
	}
	if f.manifest == "" {
		return nil
	}
	if f.repo != "" {
		ref = strings.TrimRight(f.repo, "/") + "@" + res.Digest
	}
	y, err := image.Deployment(plans, f.deployment(ref))
	if err != nil {
		return err
	}
	if err := atomicfile.Write(f.manifest, y, 0o644); err != nil {
		return fmt.Errorf("image manifest: %w", err)
	}
	out.Manifest = f.manifest
	c.imageManifestWritten(f.manifest, ref)
	return nil
}

// asUsage makes the image package's plan errors usage errors (exit 2).
func asUsage(err error) error {
	if image.IsPlanError(err) {
		return &usageError{err.Error()}
	}
	return err
}

type imageJSON struct {
	Platform string   `json:"platform"`
	Target   string   `json:"target"`
	Digest   string   `json:"digest"`
	SHA256   string   `json:"binary_sha256"`
	Size     int64    `json:"binary_size"`
	Env      []string `json:"env"`
}

// imageResultJSON is the last line of armbench image --json.
type imageResultJSON struct {
	Type     string      `json:"type"` // result
	OK       bool        `json:"ok"`
	Digest   string      `json:"digest"`
	Images   []imageJSON `json:"images"`
	Layout   string      `json:"layout,omitempty"`
	RefName  string      `json:"ref_name,omitempty"`
	Pushed   string      `json:"pushed,omitempty"`
	Manifest string      `json:"manifest,omitempty"`
}

// imageEventJSON is one line of armbench image --json before the result
// (the builds print build's own started and line events first).
type imageEventJSON struct {
	Type      string    `json:"type"` // layer | image | index | written | progress | pushed | manifest
	Time      time.Time `json:"time"`
	Platform  string    `json:"platform,omitempty"`
	Digest    string    `json:"digest,omitempty"`
	DiffID    string    `json:"diff_id,omitempty"`
	Size      int64     `json:"size,omitempty"`
	Path      string    `json:"path,omitempty"`
	Platforms []string  `json:"platforms,omitempty"`
	Ref       string    `json:"ref,omitempty"`
	Complete  int64     `json:"complete,omitempty"`
	Total     int64     `json:"total,omitempty"`
}

// imageEmit prints image events: JSON lines, or one line each on stderr.
func (c *cli) imageEmit() func(image.Event) {
	var mu sync.Mutex
	var lastProgress time.Time
	return func(ev image.Event) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := ev.(image.Building); ok {
			return // builds print through buildPlans, as armbench build prints them
		}
		if c.json {
			c.printJSON(toImageEventJSON(ev))
			return
		}
		switch ev := ev.(type) {
		case image.Layer:
			fmt.Fprintf(c.stderr, "layer    %-13s %s  %s  %s\n", ev.Platform, shortDigest(ev.Digest), humanize.IBytes(uint64(ev.Size)), ev.Path)
		case image.Image:
			fmt.Fprintf(c.stderr, "image    %-13s %s\n", ev.Platform, shortDigest(ev.Digest))
		case image.Index:
			fmt.Fprintf(c.stderr, "index    %s  %s\n", ev.Digest, strings.Join(ev.Platforms, ", "))
		case image.Written:
			fmt.Fprintf(c.stderr, "wrote    %s (OCI layout, ref name %s)\n", ev.Dir, ev.RefName)
		case image.Progress:
			if now := time.Now(); ev.Complete != ev.Total && now.Sub(lastProgress) < time.Second {
				return
			} else {
				lastProgress = now
			}
			fmt.Fprintf(c.stderr, "push     %s / %s\n", humanize.IBytes(uint64(ev.Complete)), humanize.IBytes(uint64(ev.Total)))
		case image.Pushed:
			fmt.Fprintf(c.stderr, "pushed   %s\n", ev.Digest)
		}
	}
}

func toImageEventJSON(ev image.Event) imageEventJSON {
	j := imageEventJSON{Time: time.Now()}
	switch ev := ev.(type) {
	case image.Layer:
		j.Type, j.Platform, j.Digest, j.DiffID, j.Size, j.Path = "layer", ev.Platform, ev.Digest, ev.DiffID, ev.Size, ev.Path
	case image.Image:
		j.Type, j.Platform, j.Digest = "image", ev.Platform, ev.Digest
	case image.Index:
		j.Type, j.Digest, j.Platforms = "index", ev.Digest, ev.Platforms
	case image.Written:
		j.Type, j.Path, j.Ref, j.Digest = "written", ev.Dir, ev.RefName, ev.Digest
	case image.Progress:
		j.Type, j.Complete, j.Total = "progress", ev.Complete, ev.Total
	case image.Pushed:
		j.Type, j.Ref, j.Digest = "pushed", ev.Ref, ev.Digest
	}
	return j
}

func (c *cli) imageManifestWritten(file, ref string) {
	if c.json {
		c.printJSON(imageEventJSON{Type: "manifest", Time: time.Now(), Path: file, Ref: ref})
		return
	}
	fmt.Fprintf(c.stderr, "manifest %s (image %s)\n", file, ref)
}

// shortDigest is a digest cut for a table, algorithm kept: sha256:0123456789ab.
func shortDigest(d string) string {
	if algo, hex, ok := strings.Cut(d, ":"); ok {
		return algo + ":" + short(hex)
	}
	return short(d)
}
