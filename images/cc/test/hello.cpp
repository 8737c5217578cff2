// Acceptance check for the cc image: libstdc++ (iostream, containers, exceptions, threads).
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

int main() {
	std::map<std::string, int> m{{"spartan", 7}};
	int fromThread = 0;
	std::thread t([&] { fromThread = m["spartan"] * 6; });
	t.join();
	try {
		throw std::runtime_error("caught");
	} catch (const std::exception &e) {
		std::cout << "hello from C++: " << fromThread << " " << e.what() << std::endl;
	}
	return 0;
}
