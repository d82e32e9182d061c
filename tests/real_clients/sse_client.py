"""Prints the data of each of the first N events an SSE stream sends, one per line
(`sseclient-py` over urllib)."""
import sys
import urllib.request

import sseclient


def main(url, count):
    with urllib.request.urlopen(url, timeout=30) as response:
        for n, event in enumerate(sseclient.SSEClient(response).events(), start=1):
            print(event.data, flush=True)
            if n == count:
                return


main(sys.argv[1], int(sys.argv[2]))
