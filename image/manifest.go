package image

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"sigs.k8s.io/yaml"

	"armbench/profiles"
	"armbench/targets"
)

// ContainerShare is the container's memory limit as a part of the
// smallest target's memory, in percent: the same share the lowmem profile
// gives a Go program on the board, now enforced by the kernel's cgroup.
const ContainerShare = profiles.MemLimitShare

// GoMemLimitShare is GOMEMLIMIT as a part of the container's limit, in
// percent. GOMEMLIMIT is soft and covers only what the Go runtime
// manages; at the cgroup's hard limit the kernel kills the pod, so the
// runtime must start collecting harder well before it.
const GoMemLimitShare = 90

// DeploymentOptions say what the Deployment runs and how it rolls.
type DeploymentOptions struct {
	// Name is the Deployment's, the container's and the app label's; ""
	// is the binary's name. It must make a DNS label (RFC 1123).
	Name string
	// Image is the index by digest, repository@sha256:…: a rollout then
	// means a new digest, and a node never runs a tag that moved.
	Image          string
	Namespace      string // "" = the namespace kubectl applies to
	Replicas       int    // 0 = 1
	MaxUnavailable int    // pods a rollout may take down at once
	MaxSurge       int    // extra pods a rollout may start; 0 suits boards with no memory to spare
}

// Memory is what the manifest says about memory, and why.
type Memory struct {
	Limit      int64  // bytes: resources.limits.memory (and requests)
	GoMemLimit int64  // bytes: the GOMEMLIMIT the container gets
	From       string // the target whose memory set the limit (the smallest)
	Notes      []string
}

// MemoryFor derives the container's memory limit from the smallest
// target's memory (a pod may land on any of the nodes) and GOMEMLIMIT
// below it: the profile's own GOMEMLIMIT when that is lower, else
// GoMemLimitShare of the limit.
func MemoryFor(plans []profiles.Plan) (Memory, error) {
	var m Memory
	var smallest int64
	for _, p := range plans {
		t := p.Target
		if t.Memory <= 0 {
			return Memory{}, &PlanError{fmt.Sprintf("image manifest: target %s has no memory, and the memory limit is derived from it; add memory = \"1GiB\" (for example) to its [[target]] in targets.toml", t.Name)}
		}
		if smallest == 0 || t.Memory < smallest {
			smallest, m.From = t.Memory, t.Name
		}
	}
	if smallest == 0 {
		return Memory{}, &PlanError{"image manifest: no targets"}
	}
	m.Limit = roundMiB(smallest * ContainerShare / 100)
	m.GoMemLimit = roundMiB(m.Limit * GoMemLimitShare / 100)
	m.Notes = append(m.Notes, fmt.Sprintf("memory limit %s: %d%% of the smallest target's memory (%s, %s)",
		quantity(m.Limit), ContainerShare, m.From, targets.FormatMemory(smallest)))
	own := plans[0].Profile.Run.GOMEMLIMIT
	switch v, err := targets.ParseMemory(own); {
	case own == "" || own == "auto":
		m.Notes = append(m.Notes, fmt.Sprintf("GOMEMLIMIT %s: %d%% of the limit, leaving room for stacks and memory outside the Go heap", targets.FormatMemory(m.GoMemLimit), GoMemLimitShare))
	case err == nil && v > 0 && v < m.GoMemLimit:
		m.GoMemLimit = v
		m.Notes = append(m.Notes, fmt.Sprintf("GOMEMLIMIT %s: profile %s's own, below the limit", targets.FormatMemory(v), plans[0].Profile.Name))
	default:
		m.Notes = append(m.Notes, fmt.Sprintf("GOMEMLIMIT %s: %d%% of the limit, replacing profile %s's %s, which is not below it", targets.FormatMemory(m.GoMemLimit), GoMemLimitShare, plans[0].Profile.Name, own))
	}
	return m, nil
}

// roundMiB rounds n down to whole MiB when it is at least one MiB, as
// GOMEMLIMIT=auto does, so limits read as whole numbers.
func roundMiB(n int64) int64 {
	if n >= 1<<20 {
		return n / (1 << 20) * (1 << 20)
	}
	return n
}

// quantity writes bytes as a Kubernetes quantity: 256Mi, 1Gi, or plain bytes.
func quantity(n int64) string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// Deployment writes a Kubernetes (K3s) apps/v1 Deployment that runs the
// image of plans: a RollingUpdate strategy, the memory limit and
// GOMEMLIMIT from MemoryFor, and node affinity to the architectures the
// index holds. Comments at the top say how the numbers were derived.
func Deployment(plans []profiles.Plan, o DeploymentOptions) ([]byte, error) {
	if o.Image == "" {
		return nil, &PlanError{"image manifest: no image reference to run"}
	}
	if err := CheckDeployment(plans, o); err != nil {
		return nil, err
	}
	platforms, _ := Check(plans)
	mem, _ := MemoryFor(plans)
	if o.Name == "" {
		o.Name = dnsLabel(baseName(plans[0]))
	}
	d := newDeployment(plans, o, mem)
	body, err := yaml.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("image manifest: %w", err)
	}
	var head strings.Builder
	fmt.Fprintf(&head, "# armbench image: profile %s for %s\n", plans[0].Profile.Name, strings.Join(targetPlatforms(plans, platforms), ", "))
	for _, n := range mem.Notes {
		fmt.Fprintf(&head, "# %s\n", n)
	}
	return append([]byte(head.String()), body...), nil
}

// CheckDeployment says whether Deployment can write a manifest for plans
// with o, before anything is built or pushed: an empty o.Image is allowed
// here, since the digest is known only once the image is.
func CheckDeployment(plans []profiles.Plan, o DeploymentOptions) error {
	if _, err := Check(plans); err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	_, err := MemoryFor(plans)
	return err
}

func (o DeploymentOptions) check() error {
	switch {
	case o.Replicas < 0, o.MaxUnavailable < 0, o.MaxSurge < 0:
		return &PlanError{"image manifest: replicas, max unavailable and max surge cannot be negative"}
	case o.MaxUnavailable == 0 && o.MaxSurge == 0:
		return &PlanError{"image manifest: max unavailable and max surge cannot both be 0, or a rollout could never start"}
	case o.Name != "" && dnsLabel(o.Name) != o.Name:
		return &PlanError{fmt.Sprintf("image manifest: name %q is not a DNS label (lower-case letters, digits and -, at most 63), e.g. %q", o.Name, dnsLabel(o.Name))}
	}
	if o.Image == "" {
		return nil
	}
	if _, err := name.NewDigest(o.Image); err != nil {
		return &PlanError{fmt.Sprintf("image manifest: %q is not an image by digest (REPOSITORY@sha256:…): %v", o.Image, err)}
	}
	return nil
}

func targetPlatforms(plans []profiles.Plan, platforms []string) []string {
	out := make([]string, len(plans))
	for i, p := range plans {
		out[i] = p.Target.Name + " (" + platforms[i] + ")"
	}
	return out
}

func baseName(p profiles.Plan) string {
	s := p.Output
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// dnsLabel makes s an RFC 1123 label: lower case, [a-z0-9-], at most 63,
// starting and ending with a letter or digit.
func dnsLabel(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '-'
		}
	}
	out := strings.Trim(string(b), "-")
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "-")
	}
	if out == "" {
		out = "app"
	}
	return out
}

func newDeployment(plans []profiles.Plan, o DeploymentOptions, mem Memory) deployment {
	labels := map[string]string{"app.kubernetes.io/name": o.Name, "app.kubernetes.io/managed-by": "armbench"}
	replicas := max(o.Replicas, 1)
	var arches []string
	for _, p := range plans {
		if !slices.Contains(arches, p.Target.GOARCH) {
			arches = append(arches, p.Target.GOARCH)
		}
	}
	limit := quantity(mem.Limit)
	no, yes := false, true
	return deployment{
		APIVersion: "apps/v1",
		Kind:       "Deployment",
		Metadata: objectMeta{Name: o.Name, Namespace: o.Namespace, Labels: labels,
			Annotations: map[string]string{"armbench/profile": plans[0].Profile.Name}},
		Spec: deploymentSpec{
			Replicas: replicas,
			Selector: labelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": o.Name}},
			Strategy: strategy{Type: "RollingUpdate", RollingUpdate: &rollingUpdate{MaxUnavailable: o.MaxUnavailable, MaxSurge: o.MaxSurge}},
			Template: podTemplate{
				Metadata: objectMeta{Labels: labels},
				Spec: podSpec{
					Affinity: affinity{NodeAffinity: nodeAffinity{Required: nodeSelector{Terms: []nodeSelectorTerm{{
						MatchExpressions: []requirement{
							{Key: "kubernetes.io/os", Operator: "In", Values: []string{"linux"}},
							{Key: "kubernetes.io/arch", Operator: "In", Values: arches},
						},
					}}}}},
					Containers: []container{{
						Name:  o.Name,
						Image: o.Image,
						Env:   []envVar{{Name: "GOMEMLIMIT", Value: targets.FormatMemory(mem.GoMemLimit)}},
						Resources: resources{
							Requests: map[string]string{"memory": limit},
							Limits:   map[string]string{"memory": limit},
						},
						SecurityContext: securityContext{
							AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes, RunAsNonRoot: &yes,
							Capabilities: &capabilities{Drop: []string{"ALL"}},
						},
					}},
				},
			},
		},
	}
}

// The Deployment as the Kubernetes API spells it, only the fields
// armbench writes (k8s.io/api would bring in most of Kubernetes).
type deployment struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   objectMeta     `json:"metadata"`
	Spec       deploymentSpec `json:"spec"`
}

type objectMeta struct {
	Name        string            `json:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type deploymentSpec struct {
	Replicas int           `json:"replicas"`
	Selector labelSelector `json:"selector"`
	Strategy strategy      `json:"strategy"`
	Template podTemplate   `json:"template"`
}

type labelSelector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

type strategy struct {
	Type          string         `json:"type"`
	RollingUpdate *rollingUpdate `json:"rollingUpdate,omitempty"`
}

type rollingUpdate struct {
	MaxUnavailable int `json:"maxUnavailable"`
	MaxSurge       int `json:"maxSurge"`
}

type podTemplate struct {
	Metadata objectMeta `json:"metadata"`
	Spec     podSpec    `json:"spec"`
}

type podSpec struct {
	Affinity   affinity    `json:"affinity"`
	Containers []container `json:"containers"`
}

type affinity struct {
	NodeAffinity nodeAffinity `json:"nodeAffinity"`
}

type nodeAffinity struct {
	Required nodeSelector `json:"requiredDuringSchedulingIgnoredDuringExecution"`
}

type nodeSelector struct {
	Terms []nodeSelectorTerm `json:"nodeSelectorTerms"`
}

type nodeSelectorTerm struct {
	MatchExpressions []requirement `json:"matchExpressions"`
}

type requirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values"`
}

type container struct {
	Name            string          `json:"name"`
	Image           string          `json:"image"`
	Env             []envVar        `json:"env,omitempty"`
	Resources       resources       `json:"resources"`
	SecurityContext securityContext `json:"securityContext"`
}

type envVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type resources struct {
	Requests map[string]string `json:"requests,omitempty"`
	Limits   map[string]string `json:"limits,omitempty"`
}

type securityContext struct {
	AllowPrivilegeEscalation *bool         `json:"allowPrivilegeEscalation,omitempty"`
	ReadOnlyRootFilesystem   *bool         `json:"readOnlyRootFilesystem,omitempty"`
	RunAsNonRoot             *bool         `json:"runAsNonRoot,omitempty"`
	Capabilities             *capabilities `json:"capabilities,omitempty"`
}

type capabilities struct {
	Drop []string `json:"drop"`
}
