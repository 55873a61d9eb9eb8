package ui

import (
	"charm.land/bubbles/v2/help"

	"armbench/profiles"
	"armbench/targets"
)

type helpKeyMap = help.KeyMap

// Common is the read-only context every pane shares: configuration, styles
// and the terminal size.
type Common struct {
	Config   *targets.Config
	Profiles []profiles.Profile
	Styles   *Styles
	Pkg      string
	Dir      string
	Width    int
	Height   int
}
