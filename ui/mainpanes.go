package ui

// The main area shows one of the build log, the deploy pane, the bench
// pane and the compare pane; 1–4 choose, and starting a deploy or a bench
// brings its pane forward.
const (
	paneDeploy  paneID = "deploy"
	paneBench   paneID = "bench"
	paneCompare paneID = "compare"
)

// mainIDs are the main-area panes in key order (1–5).
var mainIDs = []paneID{paneLog, paneDeploy, paneBench, paneCompare, paneRun}

func isMain(id paneID) bool {
	for _, m := range mainIDs {
		if m == id {
			return true
		}
	}
	return false
}

// showMain puts id in the main area and focuses it.
func (m *Model) showMain(id paneID) {
	m.main = id
	m.setFocus(id)
}

func (m *Model) mainPane() pane {
	for _, r := range m.panes {
		if r.id == m.main {
			return r.pane
		}
	}
	return m.log
}
