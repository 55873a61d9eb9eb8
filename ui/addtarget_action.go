package ui

import (
	"fmt"
	"os"

	tea "charm.land/bubbletea/v2"

	"armbench/detect"
	"armbench/profiles"
	"armbench/targets"
)

// a opens the add-target form; once it appended a target, the
// configuration is read again so the new target is in the list, chosen,
// without a restart.
func addTargetAction() action {
	return action{key: newKey("a", "add target"), start: (*Model).openAddTarget}
}

func (m *Model) openAddTarget() tea.Cmd {
	cfg := m.common.Config
	path := ""
	if cfg != nil && cfg.Path != targets.EmbeddedName {
		path = cfg.Path
	}
	embedded := m.env.embedded
	onEmbedded := cfg == nil || cfg.Path == targets.EmbeddedName
	form := NewAddTarget(AddTargetOptions{
		ConfigPath: detect.AddPath(path),
		Existing:   cfg,
		Remote:     m.env.remote,
		Styles:     m.common.Styles,
		Append: func(path string, t targets.Target, reasons ...detect.Reason) error {
			// Start targets.toml from the embedded default, so the
			// targets the user had stay in the list.
			if onEmbedded && len(embedded) > 0 {
				if _, err := os.Stat(path); os.IsNotExist(err) {
					if err := os.WriteFile(path, embedded, 0o644); err != nil {
						return fmt.Errorf("add target: %w", err)
					}
				}
			}
			return detect.AppendTarget(path, t, reasons...)
		},
		Added: m.reloadAfterAdding,
	})
	m.push(form, nil)
	return form.Init()
}

// reloadAfterAdding reads the configuration again, off the Update loop.
func (m *Model) reloadAfterAdding(added targets.Target, path string) tea.Cmd {
	reload := m.env.reload
	if reload == nil {
		reload = func() (*targets.Config, []profiles.Profile, error) {
			cfg, err := targets.Open(path, nil)
			if err != nil {
				return nil, nil, err
			}
			ps, err := profiles.Load(cfg)
			return cfg, ps, err
		}
	}
	return func() tea.Msg {
		cfg, ps, err := reload()
		return modelUpdate(func(m *Model) tea.Cmd {
			m.configReloaded(added, path, cfg, ps, err)
			return nil
		})
	}
}

func (m *Model) configReloaded(added targets.Target, path string, cfg *targets.Config, ps []profiles.Profile, err error) {
	if err != nil {
		m.notice = "reload after adding " + added.Name + ": " + firstLine(err.Error())
		m.logf("reload: %v", err)
		return
	}
	m.common.Config, m.common.Profiles = cfg, ps
	if !m.targets.Choose(added.Name) {
		m.notice = fmt.Sprintf("added %s to %s, but the reloaded configuration (%s) does not have it", added.Name, path, cfg.Path)
	} else {
		m.notice = fmt.Sprintf("added %s (%s) to %s", added.Name, added.Arch(), path)
	}
	m.logf("target %s added to %s", added.Name, path)
	m.refreshPlan()
}
