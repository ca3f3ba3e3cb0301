"""Delete the release's DaskCluster while the operator can still finalize it.

Runs as the chart's pre-delete hook, rendered only when the DaskCluster sets
`idleTimeout`: dask-kubernetes' autoshutdown timer then serves it, and kopf
puts a finalizer on every object a timer serves. `helm uninstall` deletes the
operator's Deployment and RBAC before custom resources, so without this step
the DaskCluster (and its namespace) would wait forever for an operator that is
gone. DaskQueueAutoscalers are left to Helm: the operator follows them through
watch events, which need no finalizer. Standard library only: it runs in any
image with Python, with the pod's ServiceAccount token.

Usage: python uninstall-cleanup.py NAMESPACE LABEL_SELECTOR TIMEOUT_SECONDS
"""

import json
import os
import ssl
import sys
import time
import urllib.parse
import urllib.request

# The mounted ServiceAccount; overridable to run the script from outside a pod.
ACCOUNT = os.environ.get("SERVICE_ACCOUNT_DIR", "/var/run/secrets/kubernetes.io/serviceaccount")
CLUSTERS = "/apis/kubernetes.dask.org/v1/namespaces/{}/daskclusters"


def call(method, path, selector):
    """Send one request to the apiserver and return the decoded JSON body."""
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    query = urllib.parse.urlencode({"labelSelector": selector})
    with open(os.path.join(ACCOUNT, "token")) as token:
        headers = {"Authorization": "Bearer " + token.read().strip()}
    context = ssl.create_default_context(cafile=os.path.join(ACCOUNT, "ca.crt"))
    url = "https://{}:{}{}?{}".format(host, port, path, query)
    request = urllib.request.Request(url, method=method, headers=headers)
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        return json.load(response)


def main(namespace, selector, timeout):
    """Delete the matching DaskClusters, then wait until the operator has let them go."""
    path = CLUSTERS.format(namespace)
    call("DELETE", path, selector)
    deadline = time.monotonic() + timeout
    while True:
        left = [item["metadata"]["name"] for item in call("GET", path, selector)["items"]]
        if not left:
            print("deleted the DaskClusters of", selector)
            return 0
        if time.monotonic() > deadline:
            print("still present after {}s (is the operator running?): {}".format(timeout, left))
            return 1
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
