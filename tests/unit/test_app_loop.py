import asyncio
import threading

from panel_dask_app.loop import current_loop, on_loop


async def which_loop():
    return asyncio.get_running_loop()


async def test_runs_here_when_no_loop_or_same_loop():
    here = asyncio.get_running_loop()
    assert await on_loop(None, which_loop()) is here
    assert await on_loop(here, which_loop()) is here


async def test_hops_to_the_given_loop_in_another_thread():
    server_loop = asyncio.new_event_loop()
    thread = threading.Thread(target=server_loop.run_forever, daemon=True)
    thread.start()
    try:
        assert await on_loop(server_loop, which_loop()) is server_loop
    finally:
        server_loop.call_soon_threadsafe(server_loop.stop)
        thread.join(10)
        server_loop.close()


def test_no_current_loop_outside_async_code():
    assert current_loop() is None
