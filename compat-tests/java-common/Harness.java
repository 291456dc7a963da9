import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Named checks printing `PASS name` / `FAIL name: reason`, each bounded in time. */
final class Harness {
    interface Body {
        void run() throws Exception;
    }

    private int passed;
    private int failed;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "check");
        t.setDaemon(true);
        return t;
    });

    void check(String name, long timeoutSeconds, Body body) {
        Future<?> f = pool.submit(() -> {
            body.run();
            return null;
        });
        try {
            f.get(timeoutSeconds, TimeUnit.SECONDS);
            pass(name);
        } catch (TimeoutException e) {
            f.cancel(true);
            fail(name, "timed out after " + timeoutSeconds + " s");
        } catch (ExecutionException e) {
            fail(name, describe(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(name, "interrupted");
        }
    }

    void check(String name, Body body) {
        check(name, 60, body);
    }

    void pass(String name) {
        passed++;
        System.out.println("PASS " + name);
        System.out.flush();
    }

    void fail(String name, String reason) {
        failed++;
        System.out.println("FAIL " + name + ": " + reason.replace('\n', ' '));
        System.out.flush();
    }

    int finish() {
        System.out.println(passed + " passed, " + failed + " failed");
        System.out.flush();
        return failed == 0 ? 0 : 1;
    }

    static String describe(Throwable t) {
        String msg = t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
        return t.getCause() != null && t.getCause() != t ? msg + " (cause " + describe(t.getCause()) + ")" : msg;
    }

    static void require(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    static void equal(Object want, Object got, String what) {
        if (want == null ? got != null : !want.equals(got)) {
            throw new AssertionError(what + ": want " + want + ", got " + got);
        }
    }

    static void await(CountDownLatch latch, long seconds, String what) throws InterruptedException {
        if (!latch.await(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("no " + what + " within " + seconds + " s");
        }
    }
}
