// Package image packs the binaries of one profile, built for several ARM
// targets, into one multi-platform OCI image index, the way ko does: with
// go-containerregistry, one layer holding the static binary on an empty
// base, and no container daemon. It writes the index to an OCI layout
// directory or pushes it to a registry, and writes a Kubernetes Deployment
// that runs it with a memory limit derived from the targets' memory.
package image

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"armbench/build"
	"armbench/profiles"
	"armbench/targets"
)

// Options say how the images are made.
type Options struct {
	// Name is the binary's file name in the image, under BinDir; "" is the
	// name go build gave it.
	Name string
	// Created is the images' creation time and the layer's file times.
	// The zero value means the Unix epoch, so that the same binaries always
	// give the same digests (set it from SOURCE_DATE_EPOCH to say when).
	Created time.Time
	// Parallel is how many builds run at once, as in build.RunAll.
	Parallel int
}

func (o Options) created() time.Time {
	if o.Created.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return o.Created.UTC()
}

// Result is an assembled index and what it holds.
type Result struct {
	Index  v1.ImageIndex
	Digest string  // sha256:… of the index
	Images []Built // in plan order
}

// Built is one platform's image in the index.
type Built struct {
	Platform        v1.Platform
	Target, Profile string
	Digest          string   // sha256:… of the image manifest
	Binary          string   // path of the binary in the image
	Env             []string // the image's environment (PATH and the profile's run settings)
	Artifact        build.Artifact
}

// PlanError says why a set of plans cannot make one image index: a
// mistake in what was asked, which front ends report as a usage error.
type PlanError struct{ Msg string }

func (e *PlanError) Error() string { return e.Msg }

func planErrorf(format string, a ...any) error {
	return &PlanError{fmt.Sprintf(format, a...)}
}

// BuildError is returned when some builds failed; Results has them all.
type BuildError struct{ Results []build.Result }

func (e *BuildError) Error() string {
	var failed []string
	for _, r := range e.Results {
		if r.Err != nil || r.Artifact == nil {
			failed = append(failed, r.Target+"/"+r.Profile)
		}
	}
	return fmt.Sprintf("image: %d of %d builds failed (%s)", len(failed), len(e.Results), strings.Join(failed, ", "))
}

// Build builds every plan through the build package, at most
// o.Parallel at once with one shared build cache, then assembles the
// index. Build events arrive wrapped in Building. emit may be nil; it is
// never called concurrently.
func Build(ctx context.Context, plans []profiles.Plan, o Options, emit func(Event)) (*Result, error) {
	if emit == nil {
		emit = func(Event) {}
	}
	platforms, err := Check(plans)
	if err != nil {
		return nil, err
	}
	results := build.RunAll(ctx, plans, o.Parallel, func(i int, ev build.Event) {
		emit(Building{Platform: platforms[i], Target: plans[i].Target.Name, Profile: plans[i].Profile.Name, Event: ev})
	})
	return Assemble(ctx, plans, results, o, emit)
}

// Assemble makes the index from builds already done: results[i] is the
// build of plans[i], as build.RunAll returns them.
func Assemble(ctx context.Context, plans []profiles.Plan, results []build.Result, o Options, emit func(Event)) (*Result, error) {
	if emit == nil {
		emit = func(Event) {}
	}
	if len(results) != len(plans) {
		return nil, fmt.Errorf("image: %d build results for %d plans", len(results), len(plans))
	}
	if _, err := Check(plans); err != nil {
		return nil, err
	}
	for _, r := range results {
		if r.Err != nil || r.Artifact == nil {
			return nil, &BuildError{Results: results}
		}
	}
	res := &Result{}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var names []string
	for i, plan := range plans {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, img, err := platformImage(plan, *results[i].Artifact, o, emit)
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &b.Platform},
		})
		res.Images = append(res.Images, b)
		names = append(names, PlatformString(b.Platform))
	}
	d, err := idx.Digest()
	if err != nil {
		return nil, fmt.Errorf("image index: %w", err)
	}
	res.Index, res.Digest = idx, d.String()
	emit(Index{Digest: res.Digest, Platforms: names})
	return res, nil
}

// Check says whether plans can make one index: binaries (not test
// binaries) of one profile for Linux, at most one per platform, linked
// statically since the image has no libc. It returns each plan's platform.
func Check(plans []profiles.Plan) ([]string, error) {
	if len(plans) == 0 {
		return nil, planErrorf("image: no targets given")
	}
	out := make([]string, len(plans))
	seen := map[string]string{}
	for i, p := range plans {
		t := p.Target
		switch {
		case p.Mode != profiles.ModeBinary:
			return nil, planErrorf("image: %s/%s is a test binary plan; an image holds the program itself", t.Name, p.Profile.Name)
		case p.Profile.Name != plans[0].Profile.Name:
			return nil, planErrorf("image: one profile per image, got %s and %s; run armbench image once per profile", plans[0].Profile.Name, p.Profile.Name)
		case p.Profile.Build.CGO && !p.Profile.Build.Static:
			return nil, planErrorf("image: profile %s links cgo dynamically, but the image has no libc; use a CGO_ENABLED=0 profile (release, lowmem…) or cgo-static", p.Profile.Name)
		case filepath.Base(p.Output) != filepath.Base(plans[0].Output):
			return nil, planErrorf("image: the plans build different programs (%s, %s)", filepath.Base(plans[0].Output), filepath.Base(p.Output))
		}
		plat, err := PlatformOf(t)
		if err != nil {
			return nil, err
		}
		s := PlatformString(plat)
		if other, dup := seen[s]; dup {
			return nil, planErrorf("image: targets %s and %s are both %s, and an index holds one image per platform; name only one of them", other, t.Name, s)
		}
		seen[s], out[i] = t.Name, s
	}
	return out, nil
}

// PlatformOf is the OCI platform of a target's binaries: linux/arm/v6,
// linux/arm/v7, linux/arm64. An arm64 image carries no variant: v8 is
// what containerd and Docker assume for arm64 and normalize away.
func PlatformOf(t targets.Target) (v1.Platform, error) {
	if goos := t.GOOS; goos != "" && goos != "linux" {
		return v1.Platform{}, planErrorf("image: target %s is GOOS=%s; container images run Linux binaries only", t.Name, goos)
	}
	switch t.GOARCH {
	case "arm":
		level, _, _ := strings.Cut(t.GOARM, ",") // "7,hardfloat" is still v7
		if level == "" {
			level = "7" // Go's default, as profiles.Resolve writes it out
		}
		return v1.Platform{OS: "linux", Architecture: "arm", Variant: "v" + level}, nil
	case "arm64":
		return v1.Platform{OS: "linux", Architecture: "arm64"}, nil
	}
	return v1.Platform{}, planErrorf("image: target %s has goarch %q, not arm or arm64", t.Name, t.GOARCH)
}

// PlatformString is os/arch[/variant], as docker and crane print it.
func PlatformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// IsPlanError reports whether err is a mistake in what was asked.
func IsPlanError(err error) bool {
	var pe *PlanError
	return errors.As(err, &pe)
}
