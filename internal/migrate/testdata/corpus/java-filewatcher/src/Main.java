// Stub of the application for the migrate e2e: the e2e compiles it into the jar the
// Dockerfile copies; it prints where it runs and exits.
public class Main {
    public static void main(String[] args) {
        System.out.println("hello from filewatcher on Java " + System.getProperty("java.version") + " as " + System.getProperty("user.name"));
    }
}
