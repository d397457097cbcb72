"""The inspector in Chromium against a running serve: rows appear live, a request's detail shows
what its function changed, a KVS put made on the page lands POP by POP under the virtual clock,
an invalidation empties the cache view; each view is screenshotted (docs/inspector.md)."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import Edge, screenshot

TIMEOUT = 10_000  # ms: generous for a loaded CI machine; the page polls every 1-2 s


async def test_requests_appear_live_and_show_the_functions_change(page: Any, edge: Edge) -> None:
    await page.goto(edge.admin)
    await expect(page.locator("#live")).to_have_text("live", timeout=TIMEOUT)
    rows = page.locator("#rows tbody tr")
    await expect(rows).to_have_count(0)
    assert await edge.get("/old/page", pop="IAD") == 200
    assert await edge.get("/about", pop="FRA") == 200
    assert await edge.get("/about", pop="FRA") == 200  # a hit this time
    await expect(rows).to_have_count(3, timeout=TIMEOUT)  # without reloading the page
    newest = rows.first
    await expect(newest).to_contain_text("/about")
    await expect(newest).to_contain_text("Hit")
    await expect(rows.last).to_contain_text("Miss")
    await expect(rows.last).to_contain_text("greet")
    await screenshot(page, edge, "requests")

    await page.select_option("#f-pop", "IAD")
    await expect(rows).to_have_count(1)
    await page.fill("#f-path", "nothing-like-this")
    await expect(page.locator("#rows")).to_contain_text("No requests")
    await page.fill("#f-path", "")
    await page.select_option("#f-pop", "")

    await rows.last.get_by_role("link").click()  # the request to /old/page
    changes = page.locator("tr.change")
    await expect(page.locator("h2")).to_contain_text("/old/page", timeout=TIMEOUT)
    uri = changes.filter(has_text="uri")
    await expect(uri).to_contain_text("/old/page")
    await expect(uri).to_contain_text("/new/page")
    await expect(changes.filter(has_text="x-greeting")).to_contain_text("hello")
    await expect(page.locator("pre.logs")).to_contain_text("greeting hello for /new/page")
    await expect(page.get_by_role("region", name="Cache")).to_contain_text("miss")
    await expect(page.get_by_role("region", name="Origin")).to_contain_text("200")
    await screenshot(page, edge, "request")

    # "Send again" from another POP: a new request, its own row.
    await page.select_option("#send-pop", "NRT")
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("link", name="open it")).to_be_visible(timeout=TIMEOUT)
    await page.get_by_role("link", name="open it").click()
    await expect(page.get_by_role("region", name="Summary")).to_contain_text("NRT")


async def test_a_kvs_put_from_the_page_lands_pop_by_pop(page: Any, edge: Edge) -> None:
    await page.goto(edge.admin + "#/kvs")
    row = page.locator('tr[data-key="greeting"]')
    await expect(row).to_contain_text("hello", timeout=TIMEOUT)
    await page.fill("#kvs-key", "greeting")
    await page.fill("#kvs-value", "bonjour")
    await page.keyboard.press("Enter")  # the form submits from the keyboard
    await expect(page.locator("#kvs-note")).to_contain_text("acknowledged", timeout=TIMEOUT)
    assert edge.server.kvs.export("site")["greeting"] == "bonjour"  # through the ETag'd API

    cells = row.locator("td")
    pops = {"IAD": 2, "FRA": 3, "NRT": 4}  # columns: key, latest, IAD, FRA, NRT

    def dot(pop: str) -> Any:
        return page.locator(f'svg.propagation[data-version="2"] circle[data-pop="{pop}"]')

    async def landed(*which: str) -> None:
        for pop, column in pops.items():
            expected = "bonjour" if pop in which else "hello"
            await expect(cells.nth(column)).to_have_text(expected, timeout=TIMEOUT)
            await expect(dot(pop)).to_have_class("landed" if pop in which else "pending")

    await landed("IAD")
    await screenshot(page, edge, "kvs")
    edge.clock.advance(2.0)
    await landed("IAD", "FRA")
    edge.clock.advance(4.0)
    await landed("IAD", "FRA", "NRT")
    # A visitor at each POP now gets the new value from the function.
    assert await edge.get("/x", pop="NRT") == 200
    flow = edge.server.capture.flows[-1].captured().detail()
    assert flow["function_runs"][0]["kvs"]["reads"][0]["value"] == "bonjour"


async def test_invalidation_empties_the_cache_view(page: Any, edge: Edge) -> None:
    for pop in ("IAD", "FRA"):
        assert await edge.get("/img/logo.png", pop=pop) == 200
    assert await edge.get("/index.html", pop="IAD") == 200
    await page.goto(edge.admin + "#/cache")
    objects = page.locator("tr.cache-object")
    await expect(objects).to_have_count(3, timeout=TIMEOUT)
    await expect(page.locator("#cache-stats")).to_contain_text("0 hits, 3 misses")
    await screenshot(page, edge, "cache")
    await page.fill("#inv-path", "/img/*")
    await page.get_by_role("button", name="Invalidate").click()
    await expect(page.locator("#inv-note")).to_contain_text("invalidated 2 object(s)")
    await expect(objects).to_have_count(1, timeout=TIMEOUT)
    await page.fill("#inv-path", "/*")
    await page.get_by_role("button", name="Invalidate").click()
    await expect(objects).to_have_count(0, timeout=TIMEOUT)
    await expect(page.locator(".cache-empty")).to_have_count(3)  # every POP
    assert edge.server.cache.stats()["entries"] == 0


async def test_functions_and_distribution_views(page: Any, edge: Edge) -> None:
    for path in ("/a", "/b", "/old/c"):
        await edge.get(path)
    await page.goto(edge.admin + "#/functions")
    card = page.get_by_role("region", name="greet")
    await expect(card).to_contain_text("invocations3", timeout=TIMEOUT)
    await expect(card.locator("svg")).to_be_visible()
    await expect(card).to_contain_text("filegreet.js")  # relative to the config's folder
    await screenshot(page, edge, "functions")
    await page.goto(edge.admin + "#/distribution")
    behaviours = page.get_by_role("region", name="Behaviours (in match order)")
    await expect(behaviours).to_contain_text("CachingOptimized", timeout=TIMEOUT)
    await expect(behaviours).to_contain_text("greet")
    await screenshot(page, edge, "distribution")


async def test_the_views_are_reachable_by_keyboard(page: Any, edge: Edge) -> None:
    await page.goto(edge.admin)
    await expect(page.locator("#live")).to_have_text("live", timeout=TIMEOUT)
    for _ in range(3):  # Requests, Functions, KVS
        await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(edge.admin + "#/kvs")
    await expect(page.get_by_role("heading", name="KeyValueStores")).to_be_visible()


async def test_a_page_on_another_origin_cannot_change_state(page: Any, edge: Edge) -> None:
    # The viewer port is another origin: a script there posting to the admin port is refused.
    await page.goto(f"http://127.0.0.1:{edge.server.viewer_port}/somewhere")
    before = edge.server.kvs.export("site")
    status = await page.evaluate(
        """async (url) => {
            try {
              const r = await fetch(url, {method: 'POST', mode: 'no-cors', body: '{"name": "evil"}'});
              return r.type;
            } catch (e) { return 'blocked'; }
        }""",
        f"{edge.admin}__edgesim/kvs/stores",
    )
    assert status in ("opaque", "blocked")
    assert [s.name for s in edge.server.kvs.list_stores()] == ["site"]
    assert edge.server.kvs.export("site") == before
