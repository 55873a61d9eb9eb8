package image

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"armbench/profiles"
	"armbench/targets"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// parsed is the part of a Deployment the tests read back.
type parsed struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Replicas int `json:"replicas"`
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Strategy struct {
			Type          string `json:"type"`
			RollingUpdate struct {
				MaxUnavailable int `json:"maxUnavailable"`
				MaxSurge       int `json:"maxSurge"`
			} `json:"rollingUpdate"`
		} `json:"strategy"`
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				Affinity struct {
					NodeAffinity struct {
						Required struct {
							Terms []struct {
								MatchExpressions []struct {
									Key    string   `json:"key"`
									Values []string `json:"values"`
								} `json:"matchExpressions"`
							} `json:"nodeSelectorTerms"`
						} `json:"requiredDuringSchedulingIgnoredDuringExecution"`
					} `json:"nodeAffinity"`
				} `json:"affinity"`
				Containers []struct {
					Image string `json:"image"`
					Env   []struct {
						Name  string `json:"name"`
						Value string `json:"value"`
					} `json:"env"`
					Resources struct {
						Limits map[string]string `json:"limits"`
					} `json:"resources"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

func manifestPlans(t *testing.T, p profiles.Profile) []profiles.Plan {
	return plansFor(t, t.TempDir(), boards, p)
}

func TestDeploymentParsesBackWithLimitAboveGOMEMLIMIT(t *testing.T) {
	img := "pi-registry:5000/armbench/hello@" + testDigest
	out, err := Deployment(manifestPlans(t, edge), DeploymentOptions{Image: img, Replicas: 3, MaxUnavailable: 1})
	if err != nil {
		t.Fatal(err)
	}
	var d parsed
	if err := yaml.Unmarshal(out, &d); err != nil {
		t.Fatalf("manifest does not parse: %v\n%s", err, out)
	}
	s := d.Spec
	if d.APIVersion != "apps/v1" || d.Kind != "Deployment" || d.Metadata.Name != "hello" || s.Replicas != 3 {
		t.Errorf("header %s %s %s replicas %d", d.APIVersion, d.Kind, d.Metadata.Name, s.Replicas)
	}
	if s.Strategy.Type != "RollingUpdate" || s.Strategy.RollingUpdate.MaxUnavailable != 1 || s.Strategy.RollingUpdate.MaxSurge != 0 {
		t.Errorf("strategy %+v", s.Strategy)
	}
	for k, v := range s.Selector.MatchLabels {
		if s.Template.Metadata.Labels[k] != v {
			t.Errorf("selector %s=%s does not select the pods (labels %v)", k, v, s.Template.Metadata.Labels)
		}
	}
	if len(s.Template.Spec.Containers) != 1 {
		t.Fatalf("%d containers", len(s.Template.Spec.Containers))
	}
	c := s.Template.Spec.Containers[0]
	if c.Image != img {
		t.Errorf("image %q, want %q", c.Image, img)
	}
	// pi-zero's 512MiB is the smallest board: half of it is the limit.
	if c.Resources.Limits["memory"] != "256Mi" {
		t.Errorf("memory limit %q, want 256Mi", c.Resources.Limits["memory"])
	}
	var gomem string
	for _, e := range c.Env {
		if e.Name == "GOMEMLIMIT" {
			gomem = e.Value
		}
	}
	v, err := targets.ParseMemory(gomem)
	if err != nil || v <= 0 || v >= 256<<20 {
		t.Errorf("GOMEMLIMIT %q (%d, %v), want below the 256Mi limit", gomem, v, err)
	}
	var arches []string
	for _, term := range s.Template.Spec.Affinity.NodeAffinity.Required.Terms {
		for _, e := range term.MatchExpressions {
			if e.Key == "kubernetes.io/arch" {
				arches = append(arches, e.Values...)
			}
		}
	}
	if strings.Join(arches, ",") != "arm,arm64" {
		t.Errorf("node affinity arches %v, want arm, arm64", arches)
	}
	if !strings.HasPrefix(string(out), "# armbench image: profile edge for pi-zero (linux/arm/v6), pi3 (linux/arm/v7), pi4 (linux/arm64)\n") {
		t.Errorf("no header saying what it runs:\n%s", out)
	}
}

// Values YAML would read as numbers or booleans stay strings.
func TestDeploymentQuotesValuesThatLookLikeOtherTypes(t *testing.T) {
	p := edge
	p.Run.GOMEMLIMIT = "64MiB" // the profile's own, below the limit: kept
	out, err := Deployment(manifestPlans(t, p), DeploymentOptions{Image: "r/app@" + testDigest, MaxUnavailable: 1, Name: "123"})
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := yaml.Unmarshal(out, &generic); err != nil {
		t.Fatal(err)
	}
	if name := generic["metadata"].(map[string]any)["name"]; name != "123" {
		t.Errorf("name %#v, want the string \"123\"", name)
	}
	if !strings.Contains(string(out), "value: 64MiB") {
		t.Errorf("profile's lower GOMEMLIMIT not kept:\n%s", out)
	}
}

func TestMemoryForReplacesAGOMEMLIMITAboveTheLimit(t *testing.T) {
	p := edge
	p.Run.GOMEMLIMIT = "1GiB"
	m, err := MemoryFor(manifestPlans(t, p))
	if err != nil {
		t.Fatal(err)
	}
	if m.Limit != 256<<20 || m.GoMemLimit != 230<<20 || m.From != "pi-zero" {
		t.Errorf("limit %d gomemlimit %d from %s, want 256MiB, 230MiB (90%%, whole MiB), pi-zero", m.Limit, m.GoMemLimit, m.From)
	}
	if !strings.Contains(strings.Join(m.Notes, "\n"), "replacing profile edge's 1GiB") {
		t.Errorf("notes do not say the profile's value was replaced: %q", m.Notes)
	}
}

func TestDeploymentRefusesBadInput(t *testing.T) {
	plans := manifestPlans(t, edge)
	noMem := plansFor(t, t.TempDir(), []board{{target: targets.Target{Name: "mystery", GOARCH: "arm64"}}}, edge)
	cases := []struct {
		name  string
		plans []profiles.Plan
		o     DeploymentOptions
		want  string
	}{
		{"tag not digest", plans, DeploymentOptions{Image: "r/app:latest", MaxUnavailable: 1}, "not an image by digest"},
		{"no image", plans, DeploymentOptions{MaxUnavailable: 1}, "no image"},
		{"cannot roll", plans, DeploymentOptions{Image: "r/app@" + testDigest}, "cannot both be 0"},
		{"bad name", plans, DeploymentOptions{Image: "r/app@" + testDigest, MaxSurge: 1, Name: "My_App"}, `e.g. "my-app"`},
		{"no memory", noMem, DeploymentOptions{Image: "r/app@" + testDigest, MaxSurge: 1}, `target mystery has no memory`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Deployment(tc.plans, tc.o)
			if !IsPlanError(err) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a plan error saying %q", err, tc.want)
			}
		})
	}
}

func FuzzDNSLabel(f *testing.F) {
	for _, s := range []string{"hello", "My_App", "--x--", "", strings.Repeat("a-", 40), "Ünïcode"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l := dnsLabel(s)
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			t.Fatalf("dnsLabel(%q) = %q", s, l)
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				t.Fatalf("dnsLabel(%q) = %q has %q", s, l, c)
			}
		}
		if dnsLabel(l) != l {
			t.Fatalf("dnsLabel not idempotent on %q", l)
		}
	})
}
