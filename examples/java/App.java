import com.sun.security.auth.module.UnixSystem;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.HttpsURLConnection;

/** A tiny app: says where it runs and, given an https URL, fetches it with the JRE's trust store. */
public class App {
    public static void main(String[] args) throws Exception {
        UnixSystem unix = new UnixSystem();
        System.out.printf("hello from java %s as uid %d (%s)%n",
                Runtime.version(), unix.getUid(), unix.getUsername());
        for (String url : args) {
            HttpsURLConnection conn = (HttpsURLConnection) URI.create(url).toURL().openConnection();
            conn.setConnectTimeout(5000);
            conn.setReadTimeout(5000);
            try (InputStream in = conn.getInputStream()) {
                String body = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
                System.out.printf("GET %s: %d %s (%s)%n", url, conn.getResponseCode(), body, conn.getCipherSuite());
            }
        }
    }
}
