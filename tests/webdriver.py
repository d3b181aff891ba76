"""webdriver.py - a small W3C WebDriver client (python3 stdlib only) for Debian's chromedriver and
chromium, used by tests/review.sh to drive report.html, and by docs/screenshots.sh.

    with Browser() as b:
        b.go('file:///tmp/report.html'); b.click(b.find('[data-action="reveal"]')); b.keys('c')
"""
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ELEM = 'element-6066-11e4-a52e-4f735466cecf'
KEYS = {'Escape': '\ue00c', 'ArrowDown': '\ue015', 'ArrowUp': '\ue013', 'ArrowRight': '\ue014',
        'ArrowLeft': '\ue012', 'PageDown': '\ue00f', 'PageUp': '\ue00e', 'Home': '\ue011', 'End': '\ue010'}


class WebDriverError(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Browser:
    def __init__(self, width=1280, height=900):
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix='vigil-chromium-')
        drv = shutil.which('chromedriver') or '/usr/lib/chromium/chromedriver'
        self.proc = subprocess.Popen([drv, '--port=%d' % self.port], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.base = 'http://127.0.0.1:%d' % self.port
        for _ in range(200):
            try:
                if self._req('GET', '/status').get('ready'):
                    break
            except (OSError, WebDriverError):
                pass
            time.sleep(0.05)
        else:
            self.close()
            raise WebDriverError('chromedriver did not start')
        caps = {'browserName': 'chrome', 'goog:loggingPrefs': {'performance': 'ALL'},
                'goog:chromeOptions': {
                    'binary': shutil.which('chromium') or '/usr/bin/chromium',
                    'args': ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
                             '--disable-dev-shm-usage', '--remote-debugging-pipe',
                             '--window-size=%d,%d' % (width, height),
                             '--user-data-dir=' + self.profile]}}
        r = self._req('POST', '/session', {'capabilities': {'alwaysMatch': caps}})
        self.sid = r['sessionId']

    def _req(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else (b'{}' if method == 'POST' else None)
        rq = urllib.request.Request(self.base + path, data=data, method=method,
                                    headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(rq, timeout=120) as f:
                v = json.loads(f.read().decode() or '{}')
        except urllib.error.HTTPError as e:
            try:
                v = json.loads(e.read().decode())
            except ValueError:
                raise WebDriverError('%s %s: HTTP %d' % (method, path, e.code))
            raise WebDriverError('%s %s: %s' % (method, path, v.get('value', {}).get('message', v)))
        return v.get('value', v) if path != '/session' else v.get('value', v)

    def cmd(self, method, path, body=None):
        return self._req(method, '/session/%s%s' % (self.sid, path), body)

    # --- navigation and script
    def go(self, url):
        self.cmd('POST', '/url', {'url': url})

    def refresh(self):
        self.cmd('POST', '/refresh')

    def js(self, script, *args):
        return self.cmd('POST', '/execute/sync', {'script': script, 'args': list(args)})

    def js_async(self, script, *args):
        return self.cmd('POST', '/execute/async', {'script': script, 'args': list(args)})

    def wait(self, script, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            v = self.js(script)
            if v:
                return v
            time.sleep(0.05)
        raise WebDriverError('timed out waiting for: ' + script)

    # --- elements
    def find(self, css):
        return self.cmd('POST', '/element', {'using': 'css selector', 'value': css})[ELEM]

    def finds(self, css):
        return [e[ELEM] for e in self.cmd('POST', '/elements', {'using': 'css selector', 'value': css})]

    def click(self, el):
        self.cmd('POST', '/element/%s/click' % el)

    def send_keys(self, el, text):
        self.cmd('POST', '/element/%s/value' % el, {'text': text})

    def elem(self, el):
        return {ELEM: el}

    def keys(self, *names):
        """Key presses to the focused element (the page), as a person types them."""
        acts = []
        for n in names:
            k = KEYS.get(n, n)
            acts += [{'type': 'keyDown', 'value': k}, {'type': 'keyUp', 'value': k}]
        self.cmd('POST', '/actions', {'actions': [{'type': 'key', 'id': 'kbd', 'actions': acts}]})

    def screenshot(self, path):
        with open(path, 'wb') as f:
            f.write(base64.b64decode(self.cmd('GET', '/screenshot')))

    def network_log(self):
        """The requests the browser started since the last call (Network.requestWillBeSent)."""
        out = []
        for e in self.cmd('POST', '/se/log', {'type': 'performance'}):
            m = json.loads(e['message'])['message']
            if m.get('method') == 'Network.requestWillBeSent':
                out.append(m['params']['request']['url'])
        return out

    def close(self):
        try:
            if getattr(self, 'sid', None):
                self.cmd('DELETE', '')
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
