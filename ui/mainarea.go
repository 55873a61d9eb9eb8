package ui

// mainArea is the big pane: it shows one of the build log, the deploy
// pane, the bench pane, the compare pane, the run pane and the rollout
// pane; 1–6 choose,
// and starting a task brings its pane forward.
type mainArea struct {
	log     *LogPane
	deploy  *DeployPane
	bench   *BenchPane
	compare *ComparePane
	run     *RunPane // the output of g, and its live charts
	fleet   *FleetPane
	shown   paneID
}

const (
	paneLog     paneID = "log"
	paneDeploy  paneID = "deploy"
	paneBench   paneID = "bench"
	paneCompare paneID = "compare"
	paneRun     paneID = "run"
	paneFleet   paneID = "rollout"
)

// mainIDs are the main-area panes in key order (1–6).
var mainIDs = []paneID{paneLog, paneDeploy, paneBench, paneCompare, paneRun, paneFleet}

func isMain(id paneID) bool {
	for _, m := range mainIDs {
		if m == id {
			return true
		}
	}
	return false
}

func newMainArea(c *Common) mainArea {
	return mainArea{
		log:     NewLogPane(c, DefaultLogLines),
		deploy:  NewDeployPane(c.Styles),
		bench:   NewBenchPane(c.Styles),
		compare: NewComparePane(c.Styles),
		run:     newRunPane(c),
		fleet:   NewFleetPane(c.Styles),
		shown:   paneLog,
	}
}

// registered is the main-area panes in mainIDs order.
func (a *mainArea) registered() []registered {
	return []registered{
		{paneLog, a.log}, {paneDeploy, a.deploy}, {paneBench, a.bench}, {paneCompare, a.compare}, {paneRun, a.run}, {paneFleet, a.fleet},
	}
}

func (a *mainArea) pane() pane {
	for _, r := range a.registered() {
		if r.id == a.shown {
			return r.pane
		}
	}
	return a.log
}

func (a *mainArea) setSize(w, h int) {
	for _, r := range a.registered() {
		r.pane.SetSize(w, h)
	}
}

// showMain puts id in the main area and focuses it.
func (m *Model) showMain(id paneID) {
	m.main.shown = id
	m.setFocus(id)
}
