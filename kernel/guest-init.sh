#!/bin/busybox sh
# /init of the kernel test guest (kernel/run-qemu-test packs it into the
# initramfs with busybox, the selftest, the workload and criu-lite).
# Kernel command line: kt.mode=patched|unpatched.
#   both:     the selftest (pagemap_shmem_swap), then `criu-lite check --all`
#   both:     a pre-dump chain with the soft-dirty backend (this kernel keeps soft-dirty
#             bits, the host's does not, and has no PAGEMAP_SCAN: the pagemap paths): dirtyload
#             (bench/) pre-dumped twice while it writes, dumped against the chain, restored,
#             then it checks every page.
#   patched:  also dumps shmem_workload, whose shared memory is all in swap,
#             with CRIU_LITE_SHMEM_PAGEMAP=1 (pages found through pagemap
#             alone), prints the images' shmem records, restores it and lets
#             it check its own memory.
# Every line meant for the harness starts with "KT"; the harness judges.
# The guest always ends with reboot -f (qemu runs with -no-reboot).
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mode=unpatched
case " $(cat /proc/cmdline) " in *" kt.mode=patched "*) mode=patched ;; esac
echo # after the firmware's "Booting from ROM.." without a newline
echo "KT: boot kernel=$(uname -r) mode=$mode uptime=$(cut -d' ' -f1 /proc/uptime)s"

# wait_for FILE SECONDS: 0 once FILE exists
wait_for() {
	n=0
	while [ ! -e "$1" ]; do
		n=$((n + 1))
		[ $n -gt $(($2 * 10)) ] && return 1
		usleep 100000
	done
	return 0
}

zram_on() {
	echo 64M >/sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null &&
		swapon /dev/zram0
}

zram_off() {
	swapoff /dev/zram0 2>/dev/null
	echo 1 >/sys/block/zram0/reset
}

/bin/pagemap_shmem_swap >/tmp/selftest.out 2>&1
rc=$?
sed 's/^/KT-SELFTEST: /' /tmp/selftest.out
echo "KT: selftest rc=$rc"

criu-lite check --all >/tmp/check.out 2>&1
rc=$?
sed 's/^/KT-CHECK: /' /tmp/check.out
echo "KT: check rc=$rc"

# wait_word FILE WORD SECONDS: 0 once FILE holds WORD
wait_word() {
	n=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		n=$((n + 1))
		[ $n -gt $(($3 * 10)) ] && return 1
		usleep 100000
	done
	return 0
}

# the soft-dirty chain: two pre-dumps, a dump against them, a restore that follows it
soft_dirty_chain() {
	mkdir -p /tmp/sd
	setsid /bin/dirtyload 16 /tmp/sd/out </dev/null >/dev/null 2>&1 &
	dl=$!
	if ! wait_word /tmp/sd/out ready 60; then
		echo "KT: chain rc=1 (dirtyload not ready within 60 s)"
		return
	fi
	criu-lite pre-dump -t $dl -D /tmp/sd/1 --track soft-dirty -o /tmp/sd/1.log -v4 &&
		criu-lite pre-dump -t $dl -D /tmp/sd/2 --prev-images-dir ../1 --track soft-dirty \
			--stats-file /tmp/sd/2.json -o /tmp/sd/2.log -v4 &&
		criu-lite dump -t $dl -D /tmp/sd/d --prev-images-dir ../2 --track soft-dirty \
			--stats-file /tmp/sd/d.json -o /tmp/sd/d.log -v4
	rc=$?
	be=$(grep -ho 'tracking written pages with [a-z-]*' /tmp/sd/1.log | cut -d' ' -f5)
	p2=$(sed -n 's/.*"pages_in_parent": \([0-9]*\).*/\1/p' /tmp/sd/2.json 2>/dev/null)
	pd=$(sed -n 's/.*"pages_in_parent": \([0-9]*\).*/\1/p' /tmp/sd/d.json 2>/dev/null)
	echo "KT: chain rc=$rc backend=$be pre2_parent=$p2 dump_parent=$pd"
	if [ $rc != 0 ]; then
		grep -h Error /tmp/sd/*.log | head -10 | sed 's/^/KT-CHAINLOG: /'
		kill -9 $dl
		return
	fi
	wait $dl 2>/dev/null
	criu-lite restore -D /tmp/sd/d -d -o /tmp/sd/r.log -v4 --pidfile /tmp/sd/pid
	rc=$?
	# SIGUSR1 until it answers: one sent right after a release may leave its pause() waiting
	# (docs/design.md, "Syscall restart")
	n=0
	while [ $rc = 0 ] && ! grep -q 'ok\|BAD' /tmp/sd/out && [ $n -lt 600 ]; do
		[ $((n % 10)) = 0 ] && kill -USR1 "$(cat /tmp/sd/pid)"
		n=$((n + 1))
		usleep 100000
	done
	[ $rc = 0 ] || grep -h Error /tmp/sd/r.log | head -10 | sed 's/^/KT-CHAINLOG: /'
	echo "KT: chain restore rc=$rc result=$(cat /tmp/sd/out)"
}
soft_dirty_chain

# after the dump: the images' shmem records, the restore, the process's own check
restore_and_check() {
	grep -E 'shmem: |shared memory' /tmp/kt/dump.log | sed 's/^/KT-DUMPLOG: /'
	echo "KT-BEGIN-SHOW"
	criu-lite show /tmp/kt/img/shmem.img /tmp/kt/img/pagemap-shmem-*.img
	echo "KT-END-SHOW"
	criu-lite restore -D /tmp/kt/img -d -o /tmp/kt/restore.log -v4 \
		--pidfile /tmp/kt/restored.pid
	rc=$?
	echo "KT: restore rc=$rc pid=$(cat /tmp/kt/restored.pid 2>/dev/null)"
	[ $rc = 0 ] || tail -20 /tmp/kt/restore.log | sed 's/^/KT-RESTORELOG: /'
	touch /tmp/kt/go
	if wait_for /tmp/kt/result 60; then
		echo "KT: workload result: $(cat /tmp/kt/result)"
	else
		echo "KT: workload result: none within 60 s"
	fi
}

if [ $mode = patched ]; then
	mkdir -p /tmp/kt/img
	zram_on && echo "KT: swap on for the workload"
	setsid /bin/shmem_workload /tmp/kt </dev/null >/tmp/kt/workload.out 2>&1 &
	wl=$!
	if wait_for /tmp/kt/ready 60; then
		echo "KT: workload $(cat /tmp/kt/ready)"
		CRIU_LITE_SHMEM_PAGEMAP=1 criu-lite dump -t $wl -D /tmp/kt/img \
			-o /tmp/kt/dump.log -v4
		rc=$?
		echo "KT: dump rc=$rc"
		if [ $rc != 0 ]; then
			tail -30 /tmp/kt/dump.log | sed 's/^/KT-DUMPLOG: /'
			kill -9 $wl
		fi
		wait $wl 2>/dev/null # reap it: the restore needs its pid back
		[ $rc = 0 ] && restore_and_check
	else
		echo "KT: workload not ready within 60 s"
		sed 's/^/KT-WORKLOAD: /' /tmp/kt/workload.out
	fi
	[ -s /tmp/kt/dump.log ] && grep -E 'Error|error' /tmp/kt/dump.log | head -20 |
		sed 's/^/KT-DUMPLOG: /'
	zram_off
fi
echo "KT: done uptime=$(cut -d' ' -f1 /proc/uptime)s"
reboot -f
