# Sourced by the speed scripts (deploy-speed, redeploy-speed, fleet-speed):
# throwaway OpenSSH sshd instances on 127.0.0.1 playing the devices, with
# their own keys in a work folder, and the timing helpers they share.

# make_keys DIR: a host key and a client key, the client's authorized.
make_keys() {
	ssh-keygen -q -t ed25519 -N '' -f "$1/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$1/client_key"
	cp "$1/client_key.pub" "$1/authorized_keys"
	mkdir -p /run/sshd
}

# sshd_start DIR PORT NAME [CONFIG-LINE…]: starts sshd -D on PORT with the
# keys of DIR (its config and log named after NAME), then waits until it
# accepts connections. sshd_stop ends every one started.
sshd_pids=()
sshd_start() {
	local dir=$1 port=$2 name=$3
	shift 3
	{
		cat <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd-$name.pid
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
SetEnv SHLVL=1
CFG
		printf '%s\n' "$@"
	} >"$dir/sshd_config-$name"
	"$SSHD" -D -e -f "$dir/sshd_config-$name" 2>"$dir/sshd-$name.log" &
	sshd_pids+=($!)
}
sshd_wait() { # sshd_wait PORT
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "sshd on port $1 did not start" >&2
	return 1
}
sshd_stop() {
	((${#sshd_pids[@]})) || return 0
	kill "${sshd_pids[@]}" 2>/dev/null
	wait "${sshd_pids[@]}" 2>/dev/null || :
}

now() { date +%s%N; }
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
