#!/usr/bin/env bash
# The recipe of a lab image: what goes into it. scripts/lab/image.sh runs
# it and caches its result under a hash of this file, so any change here
# builds new images, and nothing else does.
#
#   recipe.sh ARCH WORK MIRROR    builds into WORK (WORK/root is the tree)
#
# How (facts measured on a 2-core machine without KVM):
#   - debootstrap --foreign on the host, and its second stage inside the
#     tree, where the ARM binaries run through the host's binfmt qemu-user;
#   - every package goes in now: the guest has no DNS when it boots;
#   - the initramfs holds only the listed modules (MODULES=list), which
#     builds about 10x faster under emulation than the default;
#   - mkfs.ext4 -d packs the tree into a disk image: no loop device, no
#     mount.
set -euo pipefail
arch=$1 work=$2 mirror=$3
case $arch in
arm64) kernel=linux-image-arm64 ;;
armhf) kernel=linux-image-armmp-lpae ;;
*) echo "recipe.sh: unknown architecture $arch (want arm64 or armhf)" >&2; exit 2 ;;
esac
root=$work/root
log=$work/log

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
