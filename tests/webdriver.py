"""webdriver.py - small W3C WebDriver clients (python3 stdlib only), used by tests/review.sh to drive
report.html, and by docs/screenshots.sh:
  Browser  Debian's chromium through chromedriver (HTTP);
  Firefox  Debian's firefox-esr through Marionette, its own remote protocol (Debian ships no
           geckodriver): length-prefixed JSON on a local port, the same WebDriver:* commands.
Both have the same methods, so one test drives either.

    with Browser() as b:   # or Firefox()
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


# Preferences for a fresh Firefox profile: nothing of the browser's own talks to the network (no
# updates, telemetry, remote settings, captive-portal or safe-browsing checks), so that a run is
# quick and quiet on a machine without one; port 0 makes Marionette pick a free port and write it
# to MarionetteActivePort in the profile.
FIREFOX_PREFS = {
    'marionette.port': 0, 'remote.prefs.recommended': True, 'browser.shell.checkDefaultBrowser': False,
    'browser.startup.homepage_override.mstone': 'ignore', 'browser.startup.page': 0,
    'app.update.disabledForTesting': True, 'app.normandy.enabled': False, 'toolkit.telemetry.reportingpolicy.firstRun': False,
    'datareporting.policy.dataSubmissionEnabled': False, 'datareporting.healthreport.uploadEnabled': False,
    'services.settings.server': 'data:,', 'network.captive-portal-service.enabled': False, 'network.connectivity-service.enabled': False,
    'browser.safebrowsing.malware.enabled': False, 'browser.safebrowsing.phishing.enabled': False,
    'browser.safebrowsing.downloads.enabled': False, 'extensions.update.enabled': False, 'extensions.getAddons.cache.enabled': False,
    'browser.newtabpage.enabled': False, 'browser.aboutwelcome.enabled': False, 'network.dns.disablePrefetch': True,
    'network.prefetch-next': False, 'dom.disable_open_during_load': False,
}


class Firefox:
    """firefox-esr --headless --marionette with a fresh profile. A Marionette message is
    LENGTH:JSON; a command is [0, id, name, params], its answer [1, id, error, result]."""

    def __init__(self, width=1280, height=900):
        self.profile = tempfile.mkdtemp(prefix='vigil-firefox-')
        with open(os.path.join(self.profile, 'user.js'), 'w') as f:
            for k, v in FIREFOX_PREFS.items():
                f.write('user_pref(%s, %s);\n' % (json.dumps(k), json.dumps(v)))
        exe = shutil.which('firefox-esr') or shutil.which('firefox') or '/usr/bin/firefox-esr'
        env = dict(os.environ, MOZ_HEADLESS='1', MOZ_CRASHREPORTER_DISABLE='1')
        self.proc = subprocess.Popen([exe, '--headless', '--marionette', '--no-remote', '--profile', self.profile, 'about:blank'],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        self.sock, self.buf, self.n = None, b'', 0
        portf = os.path.join(self.profile, 'MarionetteActivePort')
        end = time.time() + 60
        while time.time() < end and self.proc.poll() is None:
            try:
                port = int(open(portf).read().strip())
                self.sock = socket.create_connection(('127.0.0.1', port), timeout=120)
                break
            except (OSError, ValueError):
                time.sleep(0.1)
        if not self.sock:
            self.close()
            raise WebDriverError('firefox did not start Marionette')
        hello = self._read()
        if hello.get('marionetteProtocol') != 3:
            self.close()
            raise WebDriverError('unexpected Marionette greeting: %r' % hello)
        self._cmd('WebDriver:NewSession', {'capabilities': {'alwaysMatch': {'acceptInsecureCerts': False}}})
        self._cmd('WebDriver:SetWindowRect', {'width': width, 'height': height})

    def _read(self):
        while b':' not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise WebDriverError('Marionette closed the connection')
            self.buf += d
        n, rest = self.buf.split(b':', 1)
        n = int(n)
        while len(rest) < n:
            d = self.sock.recv(max(65536, n - len(rest)))
            if not d:
                raise WebDriverError('Marionette closed the connection')
            rest += d
        self.buf = rest[n:]
        return json.loads(rest[:n].decode())

    def _cmd(self, name, params=None):
        self.n += 1
        msg = json.dumps([0, self.n, name, params or {}]).encode()
        self.sock.sendall(b'%d:' % len(msg) + msg)
        while True:
            r = self._read()
            if isinstance(r, list) and r[0] == 1 and r[1] == self.n:
                break
        if r[2]:
            e = r[2]
            raise WebDriverError('%s: %s: %s' % (name, e.get('error'), e.get('message')))
        v = r[3]
        return v['value'] if isinstance(v, dict) and list(v) == ['value'] else v

    def go(self, url):
        self._cmd('WebDriver:Navigate', {'url': url})

    def refresh(self):
        self._cmd('WebDriver:Refresh')

    def js(self, script, *args):
        return self._cmd('WebDriver:ExecuteScript', {'script': script, 'args': list(args)})

    def js_async(self, script, *args):
        return self._cmd('WebDriver:ExecuteAsyncScript', {'script': script, 'args': list(args)})

    wait = Browser.wait

    def find(self, css):
        return self._cmd('WebDriver:FindElement', {'using': 'css selector', 'value': css})[ELEM]

    def finds(self, css):
        return [e[ELEM] for e in self._cmd('WebDriver:FindElements', {'using': 'css selector', 'value': css})]

    def click(self, el):
        self._cmd('WebDriver:ElementClick', {'id': el})

    def send_keys(self, el, text):
        self._cmd('WebDriver:ElementSendKeys', {'id': el, 'text': text})

    elem = Browser.elem

    def keys(self, *names):
        acts = []
        for n in names:
            k = KEYS.get(n, n)
            acts += [{'type': 'keyDown', 'value': k}, {'type': 'keyUp', 'value': k}]
        self._cmd('WebDriver:PerformActions', {'actions': [{'type': 'key', 'id': 'kbd', 'actions': acts}]})

    def screenshot(self, path):
        with open(path, 'wb') as f:
            f.write(base64.b64decode(self._cmd('WebDriver:TakeScreenshot', {'full': False})))

    def network_log(self):
        """The page's resource loads since the last call (Firefox has no performance log over
        Marionette; the Resource Timing entries name every fetch the page made)."""
        return self.js("var e = performance.getEntriesByType('resource').map(function (r) { return r.name; });"
                       " performance.clearResourceTimings(); return e;")

    def close(self):
        try:
            if self.sock:
                try:
                    self._cmd('WebDriver:DeleteSession')
                    self._cmd('Marionette:Quit')
                except Exception:
                    pass
                self.sock.close()
        finally:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
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


def browser(name=None):
    """The client for VIGIL_BROWSER (or name): chromium (the default) or firefox."""
    name = name or os.environ.get('VIGIL_BROWSER', 'chromium')
    return Firefox() if name == 'firefox' else Browser()
