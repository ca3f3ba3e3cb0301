# The offline kind node image: kind's own base-image files (entrypoint, systemd
# units, containerd config) from the pinned kind module, on a debootstrapped
# bookworm with Debian's containerd, runc and CNI plugins, plus the pinned
# Kubernetes binaries and the image archives kubeadm's cluster needs. The steps
# follow kind's images/base/Dockerfile; the differences are commented.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY kind-files/usr/local/bin/ /usr/local/bin/
COPY kind-files/kind/ /kind/
COPY kind-files/etc/ /etc/
COPY node-files/ /
COPY bin/kubelet bin/kubeadm bin/kubectl /usr/bin/
# The OCI runtime wrapper: privileged pods (kube-proxy, the policy enforcer) ask
# for every capability, and a capability outside the host's bounding set makes
# runc fail, so containerd runs runc through the wrapper that drops those.
COPY bin/capwrap /usr/local/sbin/runc-capwrap
COPY images/ /kind/images/
ARG KUBERNETES_VERSION
RUN chmod 0755 /usr/local/bin/* /kind/bin/* /usr/bin/kubelet /usr/bin/kubeadm /usr/bin/kubectl \
      /usr/local/sbin/runc-capwrap \
    # Debian installs containerd in /usr/bin, kind's unit starts /usr/local/bin/containerd.
    && ln -sf /usr/bin/containerd /usr/local/bin/containerd \
    # Debian's CNI plugins live in /usr/lib/cni; containerd looks in /opt/cni/bin.
    && mkdir -p /opt/cni && ln -sfn /usr/lib/cni /opt/cni/bin \
    && find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete \
    && rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
      /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
      /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/* \
    && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \
    && systemctl enable kubelet.service containerd.service undo-mount-hacks.service kind-images.service \
    && systemctl mask systemd-binfmt.service \
    && mkdir -p /etc/kubernetes/manifests \
    && ctr oci spec \
      | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
      | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json \
    # This host cannot grant CAP_SYS_RESOURCE, which lowering a sandbox's
    # oom_score_adj needs: without this runc fails with "can't get final
    # child's PID from pipe: EOF".
    && sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' /etc/containerd/config.toml \
    && sed -i '/containerd.runtimes.runc.options\]/a\    BinaryName = "/usr/local/sbin/runc-capwrap"' /etc/containerd/config.toml \
    && grep -q 'BinaryName = "/usr/local/sbin/runc-capwrap"' /etc/containerd/config.toml \
    && echo "${KUBERNETES_VERSION}" > /kind/version
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]
