package ui

import (
	"errors"
	"fmt"

	"armbench/profiles"
)

// plans resolves the chosen target with every ticked profile (or, with
// none ticked, the one under the cursor as a preview).
func (m *Model) plans() (entries []planEntry, preview bool) {
	t, ok := m.targets.Chosen()
	if !ok {
		return nil, false
	}
	sel := m.profiles.Selected()
	if len(sel) == 0 {
		if p, ok := m.profiles.Focused(); ok {
			sel, preview = []profiles.Profile{p}, true
		}
	}
	for _, p := range sel {
		plan, err := m.env.resolve(t, p, profiles.Options{Pkg: m.common.Pkg, Dir: m.common.Dir, OutRoot: m.env.outRoot, Mode: profiles.ModeBinary})
		entries = append(entries, planEntry{Profile: p.Name, Plan: plan, Err: err})
	}
	return entries, preview
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
