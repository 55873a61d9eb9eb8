package procgroup

import (
	"fmt"
	"os/exec"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Group is a job object holding the command and every process it starts.
// The command starts suspended and is put in the job before it runs, so
// no child can escape it; closing the job kills what is left.
type Group struct {
	job    windows.Handle
	pid    int
	cancel cancel
}

var ntResumeProcess = windows.NewLazySystemDLL("ntdll.dll").NewProc("NtResumeProcess")

func prepare(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.CreationFlags |= windows.CREATE_SUSPENDED | windows.CREATE_NEW_PROCESS_GROUP
}

func (g *Group) attach(cmd *exec.Cmd) error {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return fmt.Errorf("job object: %w", err)
	}
	g.job, g.pid = job, cmd.Process.Pid
	if err := g.setLimits(0); err != nil {
		return err
	}
	p, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE|windows.PROCESS_SUSPEND_RESUME, false, uint32(g.pid))
	if err != nil {
		return fmt.Errorf("open process %d: %w", g.pid, err)
	}
	defer windows.CloseHandle(p)
	if err := windows.AssignProcessToJobObject(job, p); err != nil {
		return fmt.Errorf("job object: %w", err)
	}
	if r, _, _ := ntResumeProcess.Call(uintptr(p)); r != 0 {
		return fmt.Errorf("resume process %d: NTSTATUS %#x", g.pid, r)
	}
	return nil
}

// setLimits makes closing the job kill its processes, with extra limit
// flags (a priority class).
func (g *Group) setLimits(extra uint32) error {
	var info windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION
	info.BasicLimitInformation.LimitFlags = windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | extra
	if extra&windows.JOB_OBJECT_LIMIT_PRIORITY_CLASS != 0 {
		info.BasicLimitInformation.PriorityClass = windows.IDLE_PRIORITY_CLASS
	}
	_, err := windows.SetInformationJobObject(g.job, windows.JobObjectExtendedLimitInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)))
	if err != nil {
		return fmt.Errorf("job object limits: %w", err)
	}
	return nil
}

// ID is the first process's pid.
func (g *Group) ID() int { return g.pid }

// Kill ends every process of the job at once.
func (g *Group) Kill() error {
	if g.job == 0 {
		return nil
	}
	return windows.TerminateJobObject(g.job, 1)
}

// Signal ends the group: Windows has no signals to send a job, and a
// console control event reaches only console programs, so every signal
// is a kill.
func (g *Group) Signal(syscall.Signal) error { return g.Kill() }

// LowerPriority puts the job, and what it starts later, in the idle
// priority class. A failure only leaves it at normal priority.
func (g *Group) LowerPriority() { _ = g.setLimits(windows.JOB_OBJECT_LIMIT_PRIORITY_CLASS) }

// basicAccounting is JOBOBJECT_BASIC_ACCOUNTING_INFORMATION.
type basicAccounting struct {
	TotalUserTime, TotalKernelTime, ThisPeriodTotalUserTime, ThisPeriodTotalKernelTime int64
	TotalPageFaultCount, TotalProcesses, ActiveProcesses, TotalTerminatedProcesses     uint32
}

// Alive reports whether a process of the job is still running.
func (g *Group) Alive() bool {
	if g.job == 0 {
		return false
	}
	var info basicAccounting
	err := windows.QueryInformationJobObject(g.job, windows.JobObjectBasicAccountingInformation,
		uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info)), nil)
	return err == nil && info.ActiveProcesses > 0
}

// Close closes the job, which kills what is left of it.
func (g *Group) Close() {
	if g.job != 0 {
		windows.CloseHandle(g.job)
		g.job = 0
	}
}
