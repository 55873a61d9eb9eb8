#!/usr/bin/env bash
# Builds a bootable Debian 12 image of one ARM architecture for the lab:
# the package set of Raspberry Pi OS Lite (systemd, libpam-systemd, dbus,
# sudo, openssh-server, zstd), a user pi with passwordless sudo and
# lingering on, and root login by key.
#
#   scripts/lab/image.sh arm64|armhf     prints the image's directory
#
# The image is cached outside the repository, under
# ${ARMBENCH_LAB_CACHE:-${XDG_CACHE_HOME:-~/.cache}/armbench-lab}/<arch>-<recipe>,
# where <recipe> is a hash of this script: change the recipe and the next
# run builds a new image. The directory holds:
#   disk.qcow2        the root file system (boot it through an overlay)
#   vmlinuz initrd    the kernel and initramfs, booted directly (no firmware)
#   id_ed25519        the key root and pi accept
#   host_ed25519.pub  the image's host key, for known_hosts
#   boot              the qemu-system command line, one word per line
#
# How (facts measured on a 2-core machine without KVM):
#   - debootstrap --foreign on the host, and its second stage inside the
#     tree, where the ARM binaries run through the host's binfmt qemu-user;
#   - every package goes in now: the guest has no DNS when it boots;
#   - the initramfs holds only the listed modules (MODULES=list), which
#     builds about 10x faster under emulation than the default;
#   - mkfs.ext4 -d packs the tree into a disk image: no loop device, no
#     mount, no root privilege beyond what debootstrap needs.
# Needs: debootstrap, qemu-user-static with binfmt_misc, qemu-utils,
# e2fsprogs, ssh-keygen; runs as root.
set -euo pipefail
arch=${1:?usage: image.sh arm64|armhf}
case $arch in
arm64) kernel=linux-image-arm64 ;;
armhf) kernel=linux-image-armmp-lpae ;;
*) echo "image.sh: unknown architecture $arch (want arm64 or armhf)" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
recipe=$(sha256sum "$here/image.sh" | cut -c1-16)
cache=${ARMBENCH_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/armbench-lab}
out=$cache/$arch-$recipe
if [ -f "$out/done" ]; then
	echo "$out"
	exit 0
fi
for tool in debootstrap qemu-img mkfs.ext4 ssh-keygen; do
	command -v "$tool" >/dev/null || { echo "image.sh: $tool is missing (apt-get install debootstrap qemu-utils e2fsprogs openssh-client)" >&2; exit 1; }
done
qarch=aarch64
[ "$arch" = armhf ] && qarch=arm
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-$qarch ]; then
	echo "image.sh: binfmt_misc has no qemu-$qarch entry: install qemu-user-static and register it (.ci/run does)" >&2
	exit 1
fi

# The mirror is the one this host's apt uses: the lab is built from the
# same place as the host's own packages.
mirror=${ARMBENCH_LAB_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2; exit}')
fi
if [ -z "$mirror" ]; then
	mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2; exit}')
fi
[ -n "$mirror" ] || { echo "image.sh: no Debian mirror in this host's apt sources; set ARMBENCH_LAB_MIRROR" >&2; exit 1; }

mkdir -p "$cache"
work=$(mktemp -d "$cache/.build-$arch-XXXXXX")
trap 'umount "$work/root/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
root=$work/root
log=$work/log
echo "image.sh: building $arch image from $mirror (log: $log)" >&2

packages=systemd,systemd-sysv,libpam-systemd,dbus,sudo,openssh-server,zstd,udev,kmod,initramfs-tools,procps,iproute2,$kernel
debootstrap --foreign --arch="$arch" --variant=minbase --include="$packages" bookworm "$root" "$mirror" >"$log" 2>&1 ||
	{ tail -20 "$log" >&2; exit 1; }

# The initramfs: only what a virt machine needs to mount its root.
mkdir -p "$root/etc/initramfs-tools/conf.d" "$root/usr/share/initramfs-tools/modules.d"
echo MODULES=list >"$root/etc/initramfs-tools/conf.d/armbench-lab"
printf '%s\n' virtio_mmio virtio_blk virtio_net virtio_pci crc32c_generic ext4 >"$root/usr/share/initramfs-tools/modules.d/armbench-lab"

# debootstrap's second stage skips starting services by itself.
chroot "$root" /debootstrap/debootstrap --second-stage >>"$log" 2>&1 ||
	{ tail -20 "$log" >&2; exit 1; }

# The system: a host name, the root on /dev/vda, DHCP on the first
# ethernet device (qemu's user network), a serial login for debugging.
echo "armbench-lab-$arch" >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tarmbench-lab-%s\n' "$arch" >"$root/etc/hosts"
echo '/dev/vda / ext4 defaults 0 1' >"$root/etc/fstab"
mkdir -p "$root/etc/systemd/network"
printf '[Match]\nName=e*\n\n[Network]\nDHCP=yes\n' >"$root/etc/systemd/network/20-wired.network"
chroot "$root" systemctl enable -q systemd-networkd >>"$log" 2>&1
# Nothing waits for a network that never comes online (no DNS, no time).
chroot "$root" systemctl mask -q systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer >>"$log" 2>&1 || true

# Users as Raspberry Pi OS sets them up: pi, passwordless sudo, lingering
# on; root logs in by key only (sshd's default, prohibit-password).
chroot "$root" useradd -m -s /bin/bash -G sudo pi
echo 'pi ALL=(ALL) NOPASSWD: ALL' >"$root/etc/sudoers.d/010_pi-nopasswd"
chmod 0440 "$root/etc/sudoers.d/010_pi-nopasswd"
mkdir -p "$root/var/lib/systemd/linger"
touch "$root/var/lib/systemd/linger/pi"
ssh-keygen -q -t ed25519 -N '' -C armbench-lab -f "$work/id_ed25519"
for home in root home/pi; do
	mkdir -p "$root/$home/.ssh"
	cp "$work/id_ed25519.pub" "$root/$home/.ssh/authorized_keys"
	chmod 700 "$root/$home/.ssh"
	chmod 600 "$root/$home/.ssh/authorized_keys"
done
chroot "$root" chown -R pi:pi /home/pi/.ssh
# Fresh host keys for this image (the package's postinst made some too;
# these are the ones known_hosts will hold).
rm -f "$root"/etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -C '' -f "$root/etc/ssh/ssh_host_ed25519_key"
printf 'HostKey /etc/ssh/ssh_host_ed25519_key\nUseDNS no\n' >"$root/etc/ssh/sshd_config.d/armbench-lab.conf"

cp "$root"/boot/vmlinuz-* "$work/vmlinuz"
cp "$root"/boot/initrd.img-* "$work/initrd"
cp "$root/etc/ssh/ssh_host_ed25519_key.pub" "$work/host_ed25519.pub"
rm -rf "$root/debootstrap" "$root"/var/cache/apt/archives/*.deb

# 2 GiB, sparse: room for the tests' builds and a few hundred deploys.
mkfs.ext4 -q -L root -d "$root" "$work/disk.raw" 2G >>"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
qemu-img convert -O qcow2 "$work/disk.raw" "$work/disk.qcow2"
rm -f "$work/disk.raw"

case $arch in
arm64) printf '%s\n' qemu-system-aarch64 -M virt -cpu cortex-a72 >"$work/boot" ;;
armhf) printf '%s\n' qemu-system-arm -M virt -cpu cortex-a15 >"$work/boot" ;;
esac
tmp=$out.tmp-$$
mv "$work" "$tmp"
rm -rf "$tmp/root"
touch "$tmp/done"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
