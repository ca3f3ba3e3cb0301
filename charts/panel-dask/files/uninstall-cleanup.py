"""Delete the release's Dask custom resources while the operator can still finalize them.

Runs as the chart's pre-delete hook. kopf puts a finalizer on every
DaskCluster and DaskQueueAutoscaler it runs timers for; `helm uninstall`
deletes the operator's Deployment and RBAC before custom resources, so
without this step the resources (and their namespace) would wait forever for
an operator that is gone. Standard library only: it runs in any image with
Python, with the pod's ServiceAccount token.

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
# Autoscalers first: they watch the cluster that is about to go away.
COLLECTIONS = [
    ("panel-dask.io/v1alpha1", "daskqueueautoscalers"),
    ("kubernetes.dask.org/v1", "daskclusters"),
]


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
    """Delete every matching resource, then wait until the operator has let them go."""
    paths = [
        "/apis/{}/namespaces/{}/{}".format(version, namespace, plural)
        for version, plural in COLLECTIONS
    ]
    for path in paths:
        call("DELETE", path, selector)
    deadline = time.monotonic() + timeout
    while True:
        left = [
            item["metadata"]["name"] for path in paths for item in call("GET", path, selector)["items"]
        ]
        if not left:
            print("deleted the Dask resources of", selector)
            return 0
        if time.monotonic() > deadline:
            print("still present after {}s (is the operator running?): {}".format(timeout, left))
            return 1
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
