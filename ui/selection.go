package ui

import (
	"errors"
	"fmt"
	"strings"

	"armbench/profiles"
	"armbench/targets"
)

// plans resolves the chosen target with every ticked profile (or, with
// none ticked, the one under the cursor as a preview).
func (m *Model) plans() (entries []planEntry, preview bool) {
	sel := m.profiles.Selected()
	if len(sel) == 0 {
		if p, ok := m.profiles.Focused(); ok {
			sel, preview = []profiles.Profile{p}, true
		}
	}
	if _, members, ok := m.targets.ChosenGroup(); ok {
		return m.groupEntries(members, sel), preview
	}
	t, ok := m.targets.Chosen()
	if !ok {
		return nil, false
	}
	for _, p := range sel {
		plan, err := m.env.resolve(t, p, profiles.Options{Pkg: m.common.Pkg, Dir: m.common.Dir, OutRoot: m.env.outRoot, Mode: profiles.ModeBinary})
		entries = append(entries, planEntry{Profile: p.Name, Plan: plan, Err: err})
	}
	return entries, preview
}

// groupEntries are a group's plans, one per distinct build: members that
// share an architecture level share a binary in a rollout, so they share
// an entry.
func (m *Model) groupEntries(members []targets.Target, sel []profiles.Profile) []planEntry {
	var entries []planEntry
	for _, p := range sel {
		byArch := map[string]int{}
		for _, t := range members {
			arch := t.Arch() + "|" + strings.Join(t.Tags, ",") + "|" + t.CC
			if i, ok := byArch[arch]; ok {
				entries[i].Members = append(entries[i].Members, t.Name)
				continue
			}
			plan, err := m.env.resolve(t, p, profiles.Options{Pkg: m.common.Pkg, Dir: m.common.Dir, OutRoot: m.env.outRoot, Mode: profiles.ModeBinary})
			byArch[arch] = len(entries)
			entries = append(entries, planEntry{Profile: p.Name, Plan: plan, Err: err, Members: []string{t.Name}})
		}
	}
	return entries
}

func (m *Model) refreshPlan() {
	m.plan.SetPlans(m.plans())
}

// deployPlans are the plans b, d, g and u act on: the ticked profiles, or
// the one under the cursor.
func (m *Model) deployPlans() ([]profiles.Plan, error) {
	entries, _ := m.plans()
	if len(entries) == 0 {
		return nil, errors.New("no profile: tick one with space")
	}
	var plans []profiles.Plan
	for _, e := range entries {
		if e.Err != nil {
			return nil, fmt.Errorf("plan %s: %w", e.Profile, e.Err)
		}
		plans = append(plans, e.Plan)
	}
	return plans, nil
}
