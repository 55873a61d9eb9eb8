package ui

// buildState is where one profile's build is.
type buildState int

const (
	stateRunning buildState = iota
	stateOK
	stateFailed
	stateCancelled
)

func (s buildState) String() string {
	switch s {
	case stateRunning:
		return "building"
	case stateOK:
		return "ok"
	case stateFailed:
		return "FAILED"
	case stateCancelled:
		return "cancelled"
	}
	return "?"
}
